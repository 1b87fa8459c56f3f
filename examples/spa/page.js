// The page's script. Every Web API call goes to the proxy, /spotify/…, with
// the session cookie: a 401 there means "not logged in".

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

const me = await fetch('/spotify/me')
if (me.status === 401) {
  element('login').hidden = false
} else {
  element('name').textContent = (await me.json()).display_name
  element('app').hidden = false
  more.addEventListener('click', showMore)
  await showMore()
}
