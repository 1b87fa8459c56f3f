import type { TokenEndpoint } from '../accounts/token-endpoint.js'
import { tokenExchangeChannel, traced, type TokenExchangeMessage } from './channels.js'

/**
 * The token endpoint with its grants other than refresh published on the
 * `token.exchange` channel: a login's code exchange and the app's Client
 * Credentials. A refresh is traced where its reason and lock wait are known
 * (`session/tokens.ts`, on `token.refresh`).
 */
export function instrumentedEndpoint (endpoint: TokenEndpoint): TokenEndpoint {
  function exchange<T> (grant: TokenExchangeMessage['grant'], work: () => Promise<T>): Promise<T> {
    return tokenExchangeChannel.hasSubscribers ? traced(tokenExchangeChannel, { grant }, work) : work()
  }
  return {
    exchangeCode: (code, codeVerifier) => exchange('authorization_code', () => endpoint.exchangeCode(code, codeVerifier)),
    clientCredentials: () => exchange('client_credentials', () => endpoint.clientCredentials()),
    refresh: (token) => endpoint.refresh(token)
  }
}
