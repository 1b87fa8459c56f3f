import t from 'tap'
import { safeApiPath } from '../plugin/web-api/url-rule.js'

t.test('paths that stay under /v1/ are returned unchanged, still encoded', async (t) => {
  for (const path of ['me', 'me/playlists', 'playlists/37i9dQZF1DXcBWIGoYBM5M/tracks', 'search', 'users/a%20b', 'users/smedjan', 'playlists/3cEYpjA9oz9GiPac4AsH4n/tracks', 'me/', 'me/playlists/']) {
    t.equal(safeApiPath(path), path)
  }
})

t.test('anything that could leave /v1/ or be read two ways is refused', async (t) => {
  const refused = [
    '', '.', '..', './me', 'me/.', 'me/..', 'me/../x', '%2e%2e', '%2E%2e/x', 'me/%2e', '%2e%2e%2fadmin', '%2E%2E%2F',
    '..%5cx', 'me%5C..', 'me\\x', '/me', 'me//x', 'me//', '/', '../', 'me/../', 'me%2f', '%2fme', 'me%2f%2fx', '%252e%252e', '%25252e%25252e',
    '%2525252525', '%zz', '%25zz', '%E0%A4%A', 'me#x',
    '..;/x', '%2e%2e;x', 'me;jsessionid=1', '..%00/x', 'me%00', 'me%0d%0ax', '%EF%BC%8E%EF%BC%8E/x', 'users/%C3%A9t%C3%A9'
  ]
  for (const path of refused) t.equal(safeApiPath(path), undefined, JSON.stringify(path))
})
