import { because, StoreUnavailableError } from '../errors.js'

/**
 * Runs a store operation, turning any failure (Redis down, a custom store's
 * bug) into `FST_SPOTIFY_STORE_UNAVAILABLE` (503) instead of a 500.
 */
export async function storeCall<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (cause) {
    throw new StoreUnavailableError(because(cause))
  }
}
