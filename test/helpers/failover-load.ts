import type { Test } from 'tap'
import { redisStore, type RedisClient, type RedisDurabilityOptions, type SpotifyToken, type TokenStore } from '../../plugin/index.js'
import { isRefusedInDoubt } from '../../plugin/session/refresh/attempt-mark.js'
import { createSpotifyEmulator } from '../../plugin/emulator/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, type CookieJar, REDIRECT_URI } from './build.js'
import { eventually } from './eventually.js'
import { ask, type NodeAddress, TOPOLOGY_PATIENCE } from './redis-topology.js'

/*
 * A failover under load, with rotating refresh tokens: every request
 * refreshes (access tokens live 30 s, the refresh margin is 60 s), so each
 * session's refresh token changes several times a second. A master's replica
 * is frozen and its link cut first, so that the refreshes written meanwhile
 * exist on the master only; then the master is SIGKILLed, the replica thawed and promoted
 * with the old records, and the dead master restarted as its replica. A
 * session whose rotated refresh token is lost ends with invalid_grant: 401;
 * or, when the promoted replica's copy of its record carries the mark of the
 * refresh that rotated it (the mark reached the replica, the new token did
 * not), Spotify's refusal is doubt, not proof: the session answers 503
 * FST_SPOTIFY_REFRESH_BUSY for 10 minutes after that mark (DOUBT_MS), then
 * ends. It never works again either: lost too, not waited for.
 */

export interface FailoverScene {
  /** A new client, one per app instance. */
  client (): Promise<RedisClient>
  /** The master holding a session's record now. */
  masterOf (sessionId: string): Promise<NodeAddress>
  /** SIGKILLs a master. */
  kill (master: NodeAddress): Promise<void>
  /** Waits until the killed master's replica serves in its place. */
  waitForFailover (master: NodeAddress): Promise<void>
  /** Restarts the killed master, as its old replica's replica. */
  restart (master: NodeAddress): Promise<void>
}

export interface FailoverFigures {
  /** Sessions whose records were on the killed master. */
  atRisk: number
  /** Of those, sessions that ended (401) or no longer work at the end (in doubt: 503 until they end). */
  lost: number
  /** 503 answers from the freeze to the end. */
  unavailable: number
  /** From the kill until every surviving session had a 200 again, in ms. */
  recoveryMs: number
  /** Refreshes written while the replica was frozen. */
  refreshesWhileFrozen: number
  /** How each lost session ended: the error code of its 401 (or the 503 of a session in doubt), and when (ms since the kill; negative: before). */
  lostBy: string[]
}

interface Track {
  jar: CookieJar
  sessionId: string
  atRisk: boolean
  lost: boolean
  lostBy?: string
  ok: number
  answers: number
  /** When the first request started after the kill that got a 200 was sent. */
  recoveredAt: number
  /** When its record was first found refused in doubt (0: not found so), after the kill. */
  doubtedAt: number
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An error answer's code (its body when it has none). */
function codeOf (body: string): string {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? body
}

/** `CODE at N ms` for a 401: what ended a session, and when relative to the kill. */
function lostBy (body: string, killedAt: number): string {
  const at = Number.isFinite(killedAt) ? `${Date.now() - killedAt} ms` : 'before the kill'
  return `${codeOf(body)} at ${at}`
}

/** A server's pid, from its INFO server. */
export function pidOf (info: string): number {
  return Number(/process_id:(\d+)/.exec(info)?.[1])
}

/** The replica of `master` (the first one its ROLE lists). */
async function replicaOf (master: NodeAddress): Promise<NodeAddress> {
  return await eventually(`a replica of ${master.port}`, async () => {
    const role = await ask(master, 'ROLE') as [string, number, Array<[string, string, string]>]
    const first = role[2][0]
    return first === undefined ? undefined : { host: first[0], port: Number(first[1]) }
  }, TOPOLOGY_PATIENCE)
}

export async function failoverUnderLoad (t: Test, scene: FailoverScene, options: { sessions: number, durability?: RedisDurabilityOptions }): Promise<FailoverFigures> {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    rotateRefreshTokens: true,
    accessTokenTtl: 30,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  t.teardown(() => emulator.close())
  const prefix = `failover-${process.pid}:`
  const instances: Built[] = []
  // The stores the instances built: the records are read through them.
  const stores: TokenStore[] = []
  for (let i = 0; i < 2; i++) {
    const client = await scene.client()
    const factory = redisStore({ client, prefix, ...(options.durability === undefined ? {} : { durability: options.durability }) })
    const store = async (context: Parameters<typeof factory>[0]): Promise<TokenStore> => {
      const built = await factory(context)
      stores.push(built)
      return built
    }
    instances.push(await build(t, { sharedEmulator: emulator, plugin: { store, maxSessionsPerUser: false } }))
  }
  /**
   * The session's record, through the first store that answers: an
   * instance's client may be reconnecting, or have given up (a Sentinel
   * client was seen to end after the switch).
   */
  async function recordOf (sessionId: string): Promise<SpotifyToken | undefined> {
    let failure: unknown
    for (const store of stores) {
      try {
        return await store.get(sessionId)
      } catch (err) {
        failure = err
      }
    }
    throw failure
  }
  /**
   * Whether the session's record is refused in doubt: Spotify refused the
   * refresh token of a version that another attempt marked, and the plugin
   * answers 503 without asking again until the doubt ends (10 minutes)
   * or the rotated token's write lands over it.
   */
  async function inDoubt (track: Track): Promise<boolean> {
    const record = await recordOf(track.sessionId)
    const doubted = record !== undefined && isRefusedInDoubt(record)
    if (doubted && track.doubtedAt === 0) track.doubtedAt = Date.now()
    return doubted
  }
  const tracks: Track[] = []
  for (let i = 0; i < options.sessions; i++) {
    const { jar } = await (instances[i % 2] as Built).login()
    tracks.push({ jar, sessionId: (jar.cookies.get('spotify_session') as string).split('.')[0] as string, atRisk: false, lost: false, ok: 0, answers: 0, recoveredAt: 0, doubtedAt: 0 })
  }
  // The victim: the master holding the most sessions.
  const owners = new Map<number, NodeAddress>()
  const count = new Map<number, number>()
  const ownerOf = new Map<Track, number>()
  for (const track of tracks) {
    const master = await scene.masterOf(track.sessionId)
    owners.set(master.port, master)
    ownerOf.set(track, master.port)
    count.set(master.port, (count.get(master.port) ?? 0) + 1)
  }
  const victimPort = [...count].sort((a, b) => b[1] - a[1])[0]?.[0] as number
  const victim = owners.get(victimPort) as NodeAddress
  for (const track of tracks) track.atRisk = ownerOf.get(track) === victimPort

  let unavailable = 0
  let counting = false
  let frozen = false
  let refreshesWhileFrozen = 0
  let running = true
  const goingOn = () => running
  let killedAt = Number.POSITIVE_INFINITY
  const loops = tracks.map(async (track, i) => {
    for (let n = i; goingOn() && !track.lost; n++) {
      const sent = Date.now()
      const response = await (instances[n % 2] as Built).request(track.jar, { url: '/spotify/me' })
      track.answers++
      if (response.statusCode === 200) {
        track.ok++
        if (sent > killedAt && track.recoveredAt === 0) track.recoveredAt = Date.now()
        if (frozen && track.atRisk) refreshesWhileFrozen++
      } else if (response.statusCode === 503) {
        if (counting) unavailable++
      } else if (response.statusCode === 401) {
        track.lost = true
        track.lostBy = lostBy(response.body, killedAt)
      } else {
        throw new Error(`unexpected ${response.statusCode}: ${response.body}`)
      }
      // Paced, so that two instances and the servers share two cores.
      await pause(50)
    }
  })
  // Handled from the start: a loop that outlives the test (tap's timeout
  // tears the apps down under it) or fails must not be an unhandled
  // rejection, which ends the process before the servers and their folder
  // are cleaned up. The verdict below still awaits each loop.
  const settled = Promise.allSettled(loops)
  t.teardown(async () => {
    running = false
    await settled
  })

  try {
    await eventually('every session to refresh twice', async () => tracks.every((track) => track.ok >= 2), TOPOLOGY_PATIENCE)
    const replica = await replicaOf(victim)
    const pid = pidOf(await ask(replica, 'INFO', 'server') as string)
    counting = true
    process.kill(pid, 'SIGSTOP')
    try {
      // Cut the replication link too: what the master had already sent would
      // wait in the frozen replica's socket buffer and reach it after the thaw.
      await ask(victim, 'CLIENT', 'KILL', 'TYPE', 'replica')
      frozen = true
      const before = new Map(tracks.map((track) => [track, track.answers]))
      // Each session at risk has been answered at least twice since the freeze.
      await eventually('refreshes while the replica is frozen', async () =>
        tracks.filter((track) => track.atRisk).every((track) => track.answers > (before.get(track) as number) + 1), TOPOLOGY_PATIENCE)
      frozen = false
      // Killed while the replica is still frozen: what it has not received is gone.
      killedAt = Date.now()
      await scene.kill(victim)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    await scene.waitForFailover(victim)
    await scene.restart(victim)
    // Each session works again, has ended, or is in doubt (which lasts
    // longer than any test: waiting for it to work again would not end).
    await eventually('every session to work again, end, or be in doubt', async () =>
      (await Promise.all(tracks.map(async (track) => track.lost || track.recoveredAt > 0 || await inDoubt(track)))).every(Boolean), TOPOLOGY_PATIENCE)
    running = false
    await Promise.all(loops)
    // A last round: a refresh each, and the verdict.
    for (const track of tracks) {
      if (track.lost) continue
      const sent = Date.now()
      const response = await (instances[0] as Built).request(track.jar, { url: '/spotify/me' })
      if (response.statusCode === 200) {
        if (track.recoveredAt === 0) track.recoveredAt = sent
      } else if (response.statusCode === 401) {
        track.lost = true
        track.lostBy = lostBy(response.body, killedAt)
      } else if ((await eventually('the record of a session that did not answer 200', async () =>
        // Read again while both stores fail (their clients reconnecting after the switch).
        ({ doubted: await inDoubt(track) }), TOPOLOGY_PATIENCE)).doubted) {
        track.lost = true
        track.lostBy = `${codeOf(response.body)} in doubt since ${track.doubtedAt - killedAt} ms`
      }
    }
    const recoveryMs = Math.max(0, ...tracks.filter((track) => !track.lost && track.recoveredAt > 0).map((track) => track.recoveredAt - killedAt))
    return {
      atRisk: tracks.filter((track) => track.atRisk).length,
      lost: tracks.filter((track) => track.lost).length,
      unavailable,
      recoveryMs,
      refreshesWhileFrozen,
      lostBy: tracks.flatMap((track) => track.lostBy === undefined ? [] : [track.lostBy])
    }
  } finally {
    running = false
    await settled
  }
}
