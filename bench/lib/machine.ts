import { readFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'

const PACKAGES = ['fastify', 'got', '@fastify/http-proxy', '@fastify/reply-from', 'undici', 'autocannon', '@fastify/cookie']

function version (name: string): string | undefined {
  try {
    const path = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
  } catch {
    return undefined
  }
}

/** What the numbers were measured on. */
export function machine (): Record<string, unknown> {
  const list = cpus()
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryBytes: totalmem(),
    platform: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, version(name)]))
  }
}
