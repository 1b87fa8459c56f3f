// The page's script. Who is logged in comes from GET /session, which the
// plugin answers from its session store without calling Spotify: a 401 there
// means "not logged in". Every Web API call goes to the proxy, /spotify/…,
// with the session cookie.

/** @param {string} id */
function element (id) {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`#${id} is missing`)
  return found
}

const list = element('playlists')
const more = element('more')
// The proxy rewrites the Web API's `next` links to /spotify/…, so the page
// follows them as they come.
/** @type {string | null} */
let next = '/spotify/me/playlists?limit=5'

async function showMore () {
  if (next === null) return
  const page = await (await fetch(next)).json()
  for (const playlist of page.items) {
    const item = document.createElement('li')
    item.textContent = playlist.name // text, never HTML: names can hold markup
    list.append(item)
  }
  next = page.next
  more.hidden = next === null
}

const session = await fetch('/session')
if (session.status === 401) {
  element('login').hidden = false
} else {
  const { user } = await session.json()
  element('name').textContent = user.displayName ?? user.id
  element('app').hidden = false
  more.addEventListener('click', showMore)
  await showMore()
}
