/**
 * Resolves once `condition` holds, checking every `every` ms; fails naming
 * `what` after `within` ms. For what arrives asynchronously (a pub/sub
 * message), without guessing how long it takes.
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, within = 10_000, every = 10): Promise<void> {
  const deadline = Date.now() + within
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${within} ms for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}
