/**
 * The README and the guides quote the files in examples/: every
 * `<!-- quote: file -->` (or `file#region`) marker must be followed by a code
 * block equal to what it names (a whole file without its region markers), so
 * that no quoted code drifts from code that runs. Links and the layout map
 * are checked too.
 */
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ROOT } from './helpers/examples.js'

function region (source: string, name: string, file: string): string {
  const lines = source.split('\n')
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`)
  const end = lines.findIndex((line) => line.trim() === `// #endregion ${name}`)
  if (start === -1 || end < start) throw new Error(`${file} has no region ${name}`)
  const body = lines.slice(start + 1, end)
  const indent = Math.min(...body.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)![0].length))
  return body.map((line) => line.slice(indent)).join('\n') + '\n'
}

/** The file without its `// #region` and `// #endregion` lines: what a whole-file quote shows. */
function withoutRegions (source: string): string {
  return source.split('\n').filter((line) => !/^\s*\/\/ #(end)?region\b/.test(line)).join('\n')
}

const QUOTE = /<!-- quote: ([^\s#]+)(?:#([\w-]+))? -->\n(?:```\w*\n([\s\S]*?)```\n)?/g

t.test('every quoted block in README.md and docs/*.md equals the file or region it names', async (t) => {
  const docs = (await readdir(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
  const quoted = new Set<string>()
  for (const doc of ['README.md', ...docs]) {
    const text = await readFile(new URL(`../${doc}`, import.meta.url), 'utf8')
    for (const [marker, file, name, block] of text.matchAll(QUOTE)) {
      const where = `${doc}: ${marker.split('\n')[0]}`
      t.not(block, undefined, `${where} is followed by a code block`)
      // Paths are relative to the document, as its links are.
      const path = new URL(file!, new URL(`../${doc}`, import.meta.url))
      const source = await readFile(path, 'utf8')
      t.equal(block, name === undefined ? withoutRegions(source) : region(source, name, file!), where)
      quoted.add(fileURLToPath(path).slice(ROOT.length))
    }
  }
  t.ok(quoted.has('examples/quick-start.mjs'), 'the README quotes the quick start')
  for (const example of [
    'examples/spa/server.ts', 'examples/spa/page.js', 'examples/background-job.ts', 'examples/postgres.ts',
    'examples/testing/app.ts', 'examples/testing/app.test.ts', 'examples/node-redis-store.ts'
  ]) {
    t.ok(quoted.has(example), `a guide quotes ${example}`)
  }
})

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug (heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-')
}

/** The anchors of a markdown text's headings, numbered as GitHub numbers repeats. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const found = new Set<string>()
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    found.add(count === 0 ? base : `${base}-${count}`)
  }
  return found
}

/** The markdown without its fenced code blocks. */
function withoutCode (markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '')
}

t.test('every relative link of README.md and docs/*.md points at a file and heading that exist', async (t) => {
  const docs = (await readdir(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
  for (const doc of ['README.md', ...docs]) {
    const here = new URL(`../${doc}`, import.meta.url)
    const text = await readFile(here, 'utf8')
    for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const url = path === '' ? here : new URL(path, here)
      const where = `${doc}: ${target}`
      if (doc === 'README.md') {
        // What the npm page can follow: the guides and the license ship with the package.
        t.match(path, /^(docs\/[\w-]+\.md|LICENSE|)$/, `${where}: the README links only what ships`)
      }
      const linked = await readFile(url, 'utf8').catch(() => undefined)
      t.not(linked, undefined, `${where}: the file exists`)
      if (anchor !== undefined && linked !== undefined) t.ok(anchors(linked).has(anchor), `${where}: the heading exists`)
    }
  }
})

t.test('the layout in docs/development.md names every folder of plugin/', async (t) => {
  const layout = await readFile(new URL('../docs/development.md', import.meta.url), 'utf8')
  const folders = (await readdir(new URL('../plugin/', import.meta.url), { withFileTypes: true })).filter((entry) => entry.isDirectory())
  for (const folder of folders) t.match(layout, new RegExp(`^  ${folder.name}/ `, 'm'), `plugin/${folder.name}/ is in the layout`)
})
