/**
 * The logged-in page's script, sent inline (with the page's CSP nonce): who
 * is logged in and the session panel (from the plugin's session routes), the
 * live token panel, "Refresh now", and the playlists paged through the
 * plugin's `/spotify` proxy. Plain ES2020 for the browser, no build step;
 * every value from the server goes into the page as text, never as HTML.
 */
export const CLIENT_SCRIPT = String.raw`
'use strict'
;(() => {
  const $ = (id) => document.getElementById(id)
  const panel = $('token')
  if (panel === null) return

  async function call (method, url) {
    const response = await fetch(url, { method, headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
    const body = await response.json().catch(() => null)
    if (!response.ok) {
      const error = new Error(body && body.error ? body.error.message : response.statusText)
      error.status = response.status
      throw error
    }
    return body
  }

  // The token panel: a countdown to expiry, refreshed by polling the
  // token-info route (which also lets the plugin refresh when due).
  let deadline = Date.now() + Number(panel.dataset.expiresIn) * 1000
  let over = false
  const clock = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0')
  const time = (iso) => new Date(iso).toLocaleTimeString()
  const say = (...nodes) => { $('token-status').replaceChildren(...nodes) }
  function tick () {
    $('expires-in').textContent = clock(Math.max(0, Math.round((deadline - Date.now()) / 1000)))
  }
  function show (info) {
    deadline = Date.now() + info.expiresIn * 1000
    $('refreshes').textContent = String(info.refreshes)
    $('last-refresh').textContent = info.lastRefreshAt === null ? 'never' : time(info.lastRefreshAt)
    $('scopes').replaceChildren(...info.scopes.map((scope) => {
      const li = document.createElement('li')
      li.textContent = scope
      return li
    }))
    tick()
  }
  function failed (error) {
    if (error.status !== 401) return say(error.message)
    // The session is gone (logged out elsewhere, or revoked by Spotify).
    over = true
    clearInterval(poller)
    $('refresh-now').disabled = true
    const link = document.createElement('a')
    link.href = '/login'
    link.textContent = 'Log in again'
    say(error.message + ' ', link)
  }
  const stamp = $('last-refresh').querySelector('time')
  if (stamp !== null) stamp.textContent = time(stamp.dateTime)
  tick()
  setInterval(tick, 1000)
  const poller = setInterval(() => { call('GET', '/demo/token-info').then(show, failed) }, 5000)

  $('refresh-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const button = $('refresh-now')
    button.disabled = true
    say('Refreshing…')
    call('POST', '/demo/refresh')
      .then((info) => { show(info); say('Refreshed at ' + time(info.lastRefreshAt)) }, failed)
      .finally(() => { button.disabled = over })
  })

  // Playlists, one page at a time, through the proxy: it rewrites Spotify's
  // next and previous links to /spotify/…, which reach the Web API with
  // this session's token.
  const list = $('playlists')
  const previous = $('previous')
  const next = $('next')
  let page = { previous: null, next: null }
  function playlist (p) {
    const li = document.createElement('li')
    const images = p.images || []
    const cover = document.createElement(images.length > 0 ? 'img' : 'div')
    cover.className = 'cover'
    if (images.length > 0) {
      cover.src = images[images.length - 1].url
      cover.alt = ''
      cover.loading = 'lazy'
    }
    const text = document.createElement('div')
    const name = document.createElement('strong')
    name.textContent = p.name
    const about = document.createElement('span')
    // Playlists carry 'items' since 2026; 'tracks' is the name older answers used.
    const tracks = (p.items || p.tracks || {}).total
    about.textContent = [
      tracks === undefined ? null : tracks + (tracks === 1 ? ' track' : ' tracks'),
      p.owner && p.owner.display_name ? 'by ' + p.owner.display_name : null,
      p.collaborative ? 'collaborative' : p.public ? 'public' : 'private'
    ].filter(Boolean).join(' · ')
    text.append(name, about)
    li.append(cover, text)
    return li
  }
  function load (path) {
    previous.disabled = true
    next.disabled = true
    $('playlists-status').textContent = 'Loading…'
    call('GET', path).then((body) => {
      page = body
      list.replaceChildren(...body.items.map(playlist))
      $('range').textContent = body.total === 0 ? '' : (body.offset + 1) + '–' + (body.offset + body.items.length) + ' of ' + body.total
      $('playlists-status').textContent = body.total === 0 ? 'No playlists yet.' : ''
      previous.disabled = !body.previous
      next.disabled = !body.next
    }, (error) => {
      $('playlists-status').textContent = 'Could not load the playlists: ' + error.message
      if (error.status === 401) failed(error)
    })
  }
  // Who is logged in, and "reconnect by" when Spotify's six months are
  // nearly over: from GET /session, which the plugin answers from the
  // session store, without calling Spotify.
  call('GET', '/session').then((session) => {
    const name = session.user.displayName || session.user.id
    $('display-name').textContent = name
    $('avatar').textContent = name.slice(0, 1).toUpperCase()
    $('user-id').textContent = session.user.id
    $('account-id').textContent = session.user.accountId === null ? 'not sent by Spotify' : session.user.accountId
    const soon = session.reauthBy * 1000 - Date.now() < 30 * 24 * 3600 * 1000
    $('reconnect').hidden = !soon
  }, failed)
  // The devices panel, from the plugin's session routes.
  function device (d) {
    const li = document.createElement('li')
    const what = document.createElement('span')
    what.textContent = d.userAgent + ' · since ' + new Date(d.createdAt * 1000).toLocaleDateString() + (d.current ? ' · this device' : '')
    li.append(what)
    if (!d.current) {
      const out = document.createElement('button')
      out.className = 'ghost'
      out.textContent = 'Sign out'
      out.addEventListener('click', () => {
        out.disabled = true
        call('DELETE', '/session/devices/' + encodeURIComponent(d.id)).then(devices, (error) => { $('devices-status').textContent = error.message })
      })
      li.append(out)
    }
    return li
  }
  function devices () {
    return call('GET', '/session/devices').then((body) => {
      $('devices').replaceChildren(...body.devices.map(device))
      $('end-others').hidden = body.devices.length < 2
    }, (error) => { $('devices-status').textContent = error.message })
  }
  $('end-others').addEventListener('click', () => {
    call('POST', '/session/devices/end-others').then((body) => {
      $('devices-status').textContent = 'Signed out of ' + body.ended + (body.ended === 1 ? ' other device' : ' other devices')
      return devices()
    }, (error) => { $('devices-status').textContent = error.message })
  })
  devices()

  previous.addEventListener('click', () => { if (page.previous) load(page.previous) })
  next.addEventListener('click', () => { if (page.next) load(page.next) })
  load('/spotify/me/playlists?limit=' + list.dataset.limit)
})()
`
