import type { OptionsInit, Response } from 'got'

/** A Spotify paging object: `items`, and `next` (an absolute URL, or null on the last page). */
interface Page {
  items: unknown[]
  next?: unknown
}

function isPage (value: unknown): value is Page {
  return typeof value === 'object' && value !== null && Array.isArray((value as Page).items)
}

/**
 * The paging object of a Web API response: the body itself (`me/playlists`,
 * a playlist's items), or the one paging object it wraps (`search` with one
 * `type`: `{ tracks: { items, next } }`; followed artists).
 */
function pageOf (response: Response): Page | undefined {
  const body: unknown = JSON.parse(response.body as string)
  if (isPage(body)) return body
  const wrapped = Object.values(body as object).filter(isPage)
  return wrapped.length === 1 ? wrapped[0] : undefined
}

/**
 * got's `pagination` for Spotify: `api.paginate.all('me/playlists')` yields
 * every item of every page, following `next`. Each `next` is requested like
 * any other URL, so it is only followed under `{apiUrl}/v1/`; a foreign one
 * fails with `FST_SPOTIFY_FOREIGN_URL`.
 */
export const spotifyPagination: NonNullable<OptionsInit['pagination']> = {
  transform: (response) => pageOf(response as Response)?.items ?? [],
  paginate: ({ response }) => {
    const next = pageOf(response as Response)?.next
    // The next link carries the whole query (offset, limit, type): nothing
    // of the first call's searchParams may be added to it.
    return typeof next === 'string' ? { url: new URL(next), searchParams: new URLSearchParams(new URL(next).search) } : false
  },
  // A server that keeps answering `next` cannot keep a request going forever.
  requestLimit: 1000
}
