import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  // The consumer apps: an ES module and a CommonJS module by their names.
  filesTs: ['**/*.mts', '**/*.cts'],
  ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**', 'docs/api/**']
})
