#!/usr/bin/env node
// The offline equivalent of `npm audit --omit=dev`, for when the registry's
// audit endpoint cannot be reached: every package of the production tree in
// package-lock.json (not dev, not dev-optional) against a committed advisory
// snapshot, in the shape the registry's bulk advisory endpoint answers
// ({ "<package>": [{ id, url, title, severity, vulnerable_versions }] }).
// Prints each match and exits 1 when there is one, 0 when there is none.
//
// Usage: node .ci/audit-offline.mjs [--lock package-lock.json] [--advisories .ci/advisories.json]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import semver from 'semver'

const { values } = parseArgs({
  options: {
    lock: { type: 'string', default: 'package-lock.json' },
    advisories: { type: 'string', default: '.ci/advisories.json' }
  }
})
const lock = JSON.parse(readFileSync(values.lock, 'utf8'))
const snapshot = JSON.parse(readFileSync(values.advisories, 'utf8'))
const advisories = snapshot.advisories

const found = []
let checked = 0
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.dev === true || entry.devOptional === true || entry.link === true) continue
  checked++
  // The package's name is the last node_modules/<name> of its path (a
  // nested copy, an alias: `name` says which package it really is).
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
  for (const advisory of advisories[name] ?? []) {
    if (semver.satisfies(entry.version, advisory.vulnerable_versions, { includePrerelease: true })) {
      found.push(`${advisory.severity}: ${name}@${entry.version} (${path}): ${advisory.title} ${advisory.url} (vulnerable: ${advisory.vulnerable_versions})`)
    }
  }
}

console.log(`offline audit: ${checked} production packages against ${Object.values(advisories).flat().length} advisories (snapshot of ${snapshot.date})`)
for (const line of found) console.log(line)
if (found.length > 0) {
  console.log(`known vulnerabilities in the production tree: ${found.length}`)
  process.exit(1)
}
