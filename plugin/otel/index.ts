/**
 * OpenTelemetry for fastify-spotify-auth: metrics and spans recorded from
 * the plugin's diagnostics channels, with `@opentelemetry/api` (an
 * optional peer dependency) and whichever SDK the app registered.
 *
 * @module fastify-spotify-auth/otel
 */
import { subscribe, tracingChannel, unsubscribe, type TracingChannelSubscribers } from 'node:diagnostics_channel'
import {
  context, metrics, SpanKind, SpanStatusCode, trace,
  type Attributes, type Histogram, type Meter, type MeterProvider, type ObservableResult, type Span, type Tracer, type TracerProvider
} from '@opentelemetry/api'
import {
  diagnosticsChannels,
  type RateLimitMessage, type SessionMessage, type StoreMessage, type TokenExchangeMessage, type TokenRefreshMessage, type TracedMessage, type WebApiMessage, type WebApiSource
} from '../diagnostics/channels.js'

/** What {@link instrumentSpotifyAuth} records with. */
export interface SpotifyAuthOtelOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider
}

/** The instrumentation scope's name. */
const SCOPE = 'fastify-spotify-auth'

/** Bucket bounds for durations in seconds, as OpenTelemetry's HTTP conventions advise. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

/** What one trace keeps between its `start` and its `asyncEnd`: when it started, and what its `open` returned. */
interface Open<S> {
  readonly started: number
  readonly state: S
}

/** The tracing channel events the adapter listens to: a trace's first and its last. */
interface Handlers<M extends object> {
  start (message: M): void
  asyncEnd (message: M): void
}

/** `error.type` of a failed trace: the plugin's code, or the failure's name. */
function errorType (message: TracedMessage): string | undefined {
  const error = message.error
  return error === undefined ? undefined : error.code ?? error.name
}

const NO_ATTRIBUTES: Attributes = Object.freeze({})

/** Ends `span` with the trace's outcome. */
function endSpan (span: Span, message: TracedMessage, attributes: Attributes): void {
  span.setAttributes(attributes)
  const type = errorType(message)
  if (type !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: type })
  span.end()
}

/** What a refresh came to, for `spotify_auth.refreshes`. */
function refreshOutcome (message: TokenRefreshMessage): string {
  const type = errorType(message)
  if (type === 'FST_SPOTIFY_SESSION_REVOKED') return 'revoked'
  if (type !== undefined) return 'failed'
  return message.merged ? 'merged' : 'refreshed'
}

/** One series of a {@link Tally}: its attributes, and its count so far. */
interface Cell {
  readonly attributes: Attributes
  value: number
}

/**
 * A counter kept here and read by the SDK at collection time (an
 * asynchronous counter): adding is an increment of a cell the caller
 * holds (or finds by a key it already has), where a synchronous counter
 * hashes its attribute set (sorted keys, then JSON) on every `add`. The
 * attribute sets are few (route templates, statuses, sources), so the
 * cells stay few.
 */
class Tally {
  readonly #cells: Cell[] = []
  readonly #byKey = new Map<string, Cell>()

  /** A new series, counted from 0; the caller keeps it and increments `value`. */
  cell (attributes: Attributes): Cell {
    const cell = { attributes, value: 0 }
    this.#cells.push(cell)
    return cell
  }

  add (key: string, attributes: () => Attributes): void {
    let found = this.#byKey.get(key)
    if (found === undefined) {
      found = this.cell(attributes())
      this.#byKey.set(key, found)
    }
    found.value++
  }

  readonly observe = (result: ObservableResult): void => {
    for (const { attributes, value } of this.#cells) result.observe(value, attributes)
  }
}

/** A Web API call's outcome (a status, or an error's type) on one route: its attribute set and its tally cells by source. */
interface Outcome {
  readonly attributes: Attributes
  readonly calls: Partial<Record<WebApiSource, Cell>>
}

/**
 * What the adapter records for one method and route template, built on its
 * first call: the span's name and attributes, and per outcome the attribute
 * set and tally cells. A call then finds them by the values its message
 * holds (strings whose hash V8 keeps, numbers), without building a key.
 */
class RouteRecord {
  readonly spanName: string
  readonly spanAttributes: Attributes
  readonly #outcomes = new Map<number | string | undefined, Outcome>()

  constructor (method: string, route: string) {
    this.spanName = `${method} ${route}`
    this.spanAttributes = Object.freeze({ 'http.request.method': method, 'url.template': route })
  }

  /** The outcome of a call that answered `status`, or failed with `type` (then `status` is absent). */
  outcome (status: number | undefined, type: string | undefined): Outcome {
    const key = type ?? status
    let found = this.#outcomes.get(key)
    if (found === undefined) {
      const attributes: Attributes = { ...this.spanAttributes }
      if (status !== undefined) attributes['http.response.status_code'] = status
      if (type !== undefined) attributes['error.type'] = type
      found = { attributes: Object.freeze(attributes), calls: {} }
      this.#outcomes.set(key, found)
    }
    return found
  }
}

/** The {@link RouteRecord} of each method and route template seen. */
class RouteRecords {
  readonly #byMethod = new Map<string, Map<string, RouteRecord>>()

  of (method: string, route: string): RouteRecord {
    let routes = this.#byMethod.get(method)
    if (routes === undefined) {
      routes = new Map()
      this.#byMethod.set(method, routes)
    }
    let found = routes.get(route)
    if (found === undefined) {
      found = new RouteRecord(method, route)
      routes.set(route, found)
    }
    return found
  }
}

/**
 * One attribute object per distinct set, built once: the SDK keeps the
 * object it is given, and a request need not allocate one.
 */
class AttributeSets {
  readonly #sets = new Map<string, Attributes>()

  of (key: string, build: () => Attributes): Attributes {
    let found = this.#sets.get(key)
    if (found === undefined) {
      found = Object.freeze(build())
      this.#sets.set(key, found)
    }
    return found
  }
}

/**
 * Whether a store operation's duration is worth a histogram: the memory
 * store's are map lookups inside the process (well under a microsecond),
 * which recording would cost more than they take, on every request. The
 * `store` channel still publishes them.
 */
function outOfProcess (message: StoreMessage): boolean {
  return message.store !== 'memory'
}

/** Seconds since `started` (a `performance.now()`). */
function secondsSince (started: number): number {
  return (performance.now() - started) / 1000
}

/**
 * Subscribes to the plugin's diagnostics channels and records, with the
 * global providers (or those given):
 *
 * - `http.client.request.duration` (histogram, s): each Web API call that
 *   went to Spotify; `http.request.method`, `url.template`,
 *   `http.response.status_code`, `error.type`;
 * - `spotify_auth.web_api.calls` (counter, `{call}`): every Web API call;
 *   `http.request.method`, `url.template`, `http.response.status_code`,
 *   `spotify_auth.source` (`network`, `cache`, `merged`), `error.type`;
 * - `spotify_auth.refresh.duration` (histogram, s) and
 *   `spotify_auth.refreshes` (counter, `{refresh}`): `spotify_auth.reason`
 *   (`margin`, `401`, `forced`), `spotify_auth.outcome` (`refreshed`,
 *   `merged`, `revoked`, `failed`);
 * - `spotify_auth.lock.wait.duration` (histogram, s): time to the store's
 *   refresh lock (or to another instance's token), on a store with a lock;
 * - `spotify_auth.token.exchange.duration` (histogram, s): `spotify_auth.grant`,
 *   `error.type`;
 * - `spotify_auth.store.operation.duration` (histogram, s):
 *   `spotify_auth.store.operation`, `spotify_auth.store`, `error.type`;
 *   every store but the memory store (whose operations never leave the
 *   process);
 * - `spotify_auth.logins` and `spotify_auth.logouts` (counters,
 *   `{session}`): sessions started, and ended with `spotify_auth.reason`;
 * - `spotify_auth.rate_limit.window` (gauge, s): seconds the rate-limit
 *   window stays open, by `spotify_auth.reason` (`rate`, `quota`).
 *
 * Spans (under the active span: `@fastify/otel`'s request span inside a
 * request): `GET /v1/…` (client) for each Web API call, `spotify_auth
 * refresh` with a `spotify_auth lock wait` child when it waited, and
 * `spotify_auth token exchange`.
 *
 * Returns the function that unsubscribes it all.
 */
export function instrumentSpotifyAuth (options: SpotifyAuthOtelOptions = {}): () => void {
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
  const meter: Meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } })
  const subscriptions: Array<() => void> = []
  const tally = (name: string, unit: string, description: string): Tally => {
    const counts = new Tally()
    const counter = meter.createObservableCounter(name, { unit, description })
    counter.addCallback(counts.observe)
    subscriptions.push(() => counter.removeCallback(counts.observe))
    return counts
  }
  const sets = new AttributeSets()

  const httpDuration = seconds('http.client.request.duration', 'Duration of the Web API calls that went to Spotify')
  const webApiCalls = tally('spotify_auth.web_api.calls', '{call}', 'Web API calls, by route template, status and source')
  const refreshDuration = seconds('spotify_auth.refresh.duration', 'Duration of session token refreshes, lock wait included')
  const refreshes = tally('spotify_auth.refreshes', '{refresh}', 'Session token refreshes, by reason and outcome')
  const lockWait = seconds('spotify_auth.lock.wait.duration', 'Time spent waiting for another instance\'s refresh lock')
  const exchangeDuration = seconds('spotify_auth.token.exchange.duration', 'Duration of code exchanges and app token calls')
  const storeDuration = seconds('spotify_auth.store.operation.duration', 'Duration of token store operations')
  const logins = tally('spotify_auth.logins', '{session}', 'Sessions started by a login')
  const logouts = tally('spotify_auth.logouts', '{session}', 'Sessions ended, by reason')
  const windows: Record<RateLimitMessage['reason'], number> = { rate: 0, quota: 0 }
  const windowGauge = meter.createObservableGauge('spotify_auth.rate_limit.window', { unit: 's', description: 'Seconds the rate-limit window stays open, by reason' })
  const observeWindows = (result: ObservableResult): void => {
    const now = Date.now()
    for (const reason of ['rate', 'quota'] as const) result.observe(Math.max(0, (windows[reason] - now) / 1000), { 'spotify_auth.reason': reason })
  }
  windowGauge.addCallback(observeWindows)
  subscriptions.push(() => windowGauge.removeCallback(observeWindows))

  /**
   * Subscribes `finish` to a tracing channel's end, with the start time and
   * what `open` returned at its start (a span, or more); only traces that
   * `wanted` (default: all). A trace
   * always ends (`asyncEnd` follows every `start`, failed or not), so a
   * plain map holds the open ones: cheaper than a weak map, which the
   * collector must revisit.
   */
  function traceOf<M extends TracedMessage, S> (name: string, open: (message: M) => S, finish: (message: M, opened: Open<S>) => void, wanted?: (message: M) => boolean): void {
    const opened = new Map<M, Open<S>>()
    const handlers: Handlers<M> = {
      start (message) {
        if (wanted === undefined || wanted(message)) opened.set(message, { started: performance.now(), state: open(message) })
      },
      asyncEnd (message) {
        const found = opened.get(message)
        if (found === undefined) return
        opened.delete(message)
        finish(message, found)
      }
    }
    const channel = tracingChannel<unknown, M>(name)
    // Node subscribes the events a handler object has (every version since
    // tracing channels came, 20 included); @types/node asks for all five,
    // and three empty ones would still be called on every trace.
    const events = handlers as unknown as TracingChannelSubscribers<M>
    channel.subscribe(events)
    subscriptions.push(() => channel.unsubscribe(events))
  }

  const routes = new RouteRecords()
  traceOf<WebApiMessage, { route: RouteRecord, span: Span }>(diagnosticsChannels.webApi, (message) => {
    const route = routes.of(message.method, message.route)
    return { route, span: tracer.startSpan(route.spanName, { kind: SpanKind.CLIENT, attributes: route.spanAttributes }, context.active()) }
  }, (message, { started, state: { route, span } }) => {
    const type = errorType(message)
    const source = message.source ?? 'network'
    const outcome = route.outcome(message.status, type)
    if (message.attempts > 0) httpDuration.record(secondsSince(started), outcome.attributes)
    const cell = outcome.calls[source] ??= webApiCalls.cell(Object.freeze({ ...outcome.attributes, 'spotify_auth.source': source }))
    cell.value++
    // The method and route went in at the start.
    if (message.status !== undefined) span.setAttribute('http.response.status_code', message.status)
    span.setAttribute('spotify_auth.source', source).setAttribute('spotify_auth.attempts', message.attempts)
    endSpan(span, message, type === undefined ? NO_ATTRIBUTES : { 'error.type': type })
  })

  traceOf<TokenRefreshMessage, Span>(diagnosticsChannels.tokenRefresh, (message) => tracer.startSpan('spotify_auth refresh', {
    attributes: { 'spotify_auth.reason': message.reason, 'spotify_auth.session': message.session }
  }, context.active()), (message, { started, state: span }) => {
    const outcome = refreshOutcome(message)
    const attributes = sets.of(`refresh ${message.reason} ${outcome}`, () => ({ 'spotify_auth.reason': message.reason, 'spotify_auth.outcome': outcome }))
    refreshDuration.record(secondsSince(started), attributes)
    refreshes.add(`${message.reason} ${outcome}`, () => attributes)
    if (message.lockWaitMs > 0) {
      lockWait.record(message.lockWaitMs / 1000)
      // The wait began with the refresh: drawn afterwards, under it.
      const begin = performance.timeOrigin + started
      tracer.startSpan('spotify_auth lock wait', { startTime: begin }, trace.setSpan(context.active(), span))
        .end(begin + message.lockWaitMs)
    }
    endSpan(span, message, { ...attributes, 'spotify_auth.merged': message.merged, 'spotify_auth.lock_wait_ms': message.lockWaitMs })
  })

  traceOf<TokenExchangeMessage, Span>(diagnosticsChannels.tokenExchange, (message) => tracer.startSpan('spotify_auth token exchange', {
    attributes: { 'spotify_auth.grant': message.grant }
  }, context.active()), (message, { started, state: span }) => {
    const type = errorType(message)
    const attributes = sets.of(`exchange ${message.grant} ${type ?? ''}`, () => {
      const built: Attributes = { 'spotify_auth.grant': message.grant }
      if (type !== undefined) built['error.type'] = type
      return built
    })
    exchangeDuration.record(secondsSince(started), attributes)
    endSpan(span, message, attributes)
  })

  traceOf<StoreMessage, undefined>(diagnosticsChannels.store, () => undefined, (message, { started }) => {
    const type = errorType(message)
    storeDuration.record(secondsSince(started), sets.of(`store ${message.operation} ${message.store} ${type ?? ''}`, () => {
      const built: Attributes = { 'spotify_auth.store.operation': message.operation, 'spotify_auth.store': message.store }
      if (type !== undefined) built['error.type'] = type
      return built
    }))
  }, outOfProcess)

  const onSession = (raw: unknown): void => {
    const message = raw as SessionMessage
    if (message.event === 'started') logins.add('', () => ({}))
    else logouts.add(message.reason, () => ({ 'spotify_auth.reason': message.reason }))
  }
  subscribe(diagnosticsChannels.session, onSession)
  subscriptions.push(() => unsubscribe(diagnosticsChannels.session, onSession))

  const onRateLimit = (raw: unknown): void => {
    const message = raw as RateLimitMessage
    windows[message.reason] = message.state === 'opened' ? message.until : 0
  }
  subscribe(diagnosticsChannels.rateLimit, onRateLimit)
  subscriptions.push(() => unsubscribe(diagnosticsChannels.rateLimit, onRateLimit))

  return () => {
    for (const stop of subscriptions) stop()
  }
}
