import type { CategoryRule, Frame } from './cpuprofile.js'

/** Packages that got 14 brings along. */
const GOT_PACKAGES = /^(got|p-cancelable|@sindresorhus\/is|lowercase-keys|responselike|mimic-response|decompress-response|cacheable-request|cacheable-lookup|http2-wrapper|form-data-encoder|defer-to-connect|@szmarczak\/http-timer|get-stream|normalize-url|keyv|@keyv|byte-counter|chunk-data|type-fest)\//
const SOCKET_WRITES = new Set(['writev', 'writeLatin1String', 'writeUtf8String', 'writeBuffer', 'writeAsciiString'])

const inStack = (stack: readonly Frame[], test: (frame: Frame) => boolean): boolean => stack.some(test)
const isGot = (frame: Frame): boolean => GOT_PACKAGES.test(frame.file)

/**
 * What the CPU of the proxy path goes to, one bucket per sample (first rule
 * that matches wins). Stack-based, so that e.g. `http.request` called by got
 * counts against got's way of calling it.
 */
export const HOT_PATH_RULES: CategoryRule[] = [
  { name: 'garbage collection', match: (leaf) => leaf.file === '(garbage collector)' },
  {
    name: 'OpenTelemetry: fastify-spotify-auth/otel and the SDK',
    match: (_leaf, stack) => inStack(stack, (f) => f.file.startsWith('plugin/otel/') || f.file.startsWith('@opentelemetry/'))
  },
  { name: 'static upstream (bench fixture, same process)', match: (_leaf, stack) => inStack(stack, (f) => f.file === 'bench/lib/upstream.ts') },
  {
    name: 'socket writes, kernel: request to the upstream',
    match: (leaf, stack) => SOCKET_WRITES.has(leaf.name) && inStack(stack, (f) => f.file === 'node:_http_client' || isGot(f) || f.file.startsWith('undici/'))
  },
  { name: 'socket writes, kernel: response to the client', match: (leaf) => SOCKET_WRITES.has(leaf.name) },
  { name: 'got: options (Options, merge, createNativeRequestOptions)', match: (leaf) => leaf.file === 'got/dist/source/core/options.js' },
  {
    name: 'node http.request + Agent.addRequest, called by got',
    match: (leaf, stack) => /^node:(_http_client|_http_agent|http|internal\/url)$/.test(leaf.file) && inStack(stack, isGot)
  },
  { name: 'got: the rest (request stream, promise, timers, events)', match: (leaf, stack) => isGot(leaf) || (leaf.file.startsWith('node:') && inStack(stack, isGot)) },
  {
    name: 'session cookie: parse, HMAC verify',
    match: (leaf, stack) => leaf.file.startsWith('@fastify/cookie') || leaf.file.startsWith('cookie/') ||
      inStack(stack, (f) => f.file.startsWith('@fastify/cookie/signer') || f.file === 'plugin/session-cookie.ts')
  },
  { name: 'plugin code (handler, path check, header copies, authenticator, store)', match: (leaf) => leaf.file.startsWith('plugin/') },
  { name: 'microtasks and awaits', match: (leaf) => leaf.name === 'runMicrotasks' || leaf.file === 'node:internal/process/task_queues' },
  { name: 'fastify (routing, hooks, reply)', match: (leaf) => /^(fastify|find-my-way|@fastify\/|fast-json-stringify|light-my-request)/.test(leaf.file) },
  { name: 'undici / reply-from / http-proxy', match: (leaf) => /^(undici|@fastify\/(reply-from|http-proxy))\//.test(leaf.file) },
  { name: 'node: incoming HTTP (server, parser)', match: (leaf) => /^node:(_http_server|_http_common|_http_incoming|_http_outgoing)$/.test(leaf.file) || leaf.name === 'parse' },
  { name: 'node: streams, events, other core', match: (leaf) => leaf.file.startsWith('node:') || leaf.file === '(native)' },
  { name: 'V8 (program)', match: (leaf) => leaf.file === '(program)' }
]
