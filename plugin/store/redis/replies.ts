/** A sorted set's reply WITH SCORES, as pairs: flat under RESP2, in pairs under RESP3 (whichever the client). */
export function pairs (reply: unknown): Array<[string, number]> {
  const flat = (reply as unknown[]).flat() as string[]
  const scored: Array<[string, number]> = []
  for (let i = 0; i < flat.length; i += 2) scored.push([flat[i] as string, Number(flat[i + 1])])
  return scored
}
