import t from 'tap'
import { Example, Visitor } from './helpers/examples.js'
import { freePort } from './helpers/ports.js'

t.test('the quick start: offline on its own emulator, a login on the consent page, the logged-in page, logout', async (t) => {
  const port = await freePort()
  const app = await Example.start(t, 'quick-start.mjs', { PORT: String(port) })
  t.equal(app.origin, `http://127.0.0.1:${port}`, 'it listens where its redirect URI points')
  const visitor = new Visitor(app.origin)

  const anonymous = await visitor.fetch('/')
  t.equal(anonymous.status, 200)
  t.equal(await anonymous.text(), '<a href="/login">Log in with Spotify</a>', 'a login link before login')

  const callback = await visitor.logIn(t)
  t.equal(callback.status, 302)
  t.equal(callback.headers.get('location'), '/', 'the callback sends the browser to /')
  const page = await visitor.fetch('/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/)
  const html = await page.text()
  t.match(html, '<h1>Hello, Alice Andersson</h1>', 'the logged-in page names the user')
  t.match(html, '<li>Morning Focus</li>', 'and lists their playlists')
  t.match(html, '<li>Gym &#60;Bangers&#62; &#38; &#34;Hits&#34;</li>', 'escaped')
  t.match(html, '<form method="post" action="/logout">')

  const logout = await visitor.fetch('/logout', { method: 'POST' })
  t.equal(logout.status, 303)
  t.equal(await (await visitor.fetch('/')).text(), '<a href="/login">Log in with Spotify</a>', 'logged out')
  t.same(app.stderr, [], 'nothing on stderr')
})
