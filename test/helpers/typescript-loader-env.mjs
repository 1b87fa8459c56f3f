// Runs in the module loader thread, before tsx's hooks load there: see
// typescript.mjs. No process starts with this value, so no folder is made.
process.env.NODE_V8_COVERAGE ||= 'tsx-source-maps-with-sources'
