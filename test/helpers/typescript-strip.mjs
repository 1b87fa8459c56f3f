// The light TypeScript loader (typescript.mjs picks it when no coverage is
// measured): Node's own type stripping, plus the one thing it does not do,
// resolving the `.js` specifiers of TypeScript's NodeNext style to the
// `.ts` files beside them. In-thread hooks (module.registerHooks): no
// loader thread, no transform cache, no source maps to write.
import module from 'node:module'

module.registerHooks({
  resolve (specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.endsWith('.js') || !/^\.{1,2}\//.test(specifier)) throw err
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    }
  }
})
