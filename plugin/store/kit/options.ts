import { InvalidOptionError } from '../../errors.js'

/*
 * A store checks its options once, when it is made, and throws the plugin's
 * `FST_SPOTIFY_INVALID_OPTION` naming the option ("redisStore
 * options.prefix must be a string"): a clear error at start-up, never a
 * half-working store or a failure at the first request.
 */

/** What an option must be: the test, and the words that say it ("must be a boolean"). */
export interface OptionRule<T> {
  /** Whether a value passes. */
  readonly test: (value: unknown) => value is T
  /** What a value must be, as the error message ends: "must be a boolean". */
  readonly says: string
}

/** A rule from a test and the words that say it. */
export function optionRule<T> (test: (value: unknown) => value is T, says: string): OptionRule<T> {
  return { test, says }
}

const isNumber = (value: unknown): value is number => typeof value === 'number'

/** The rules the shipped stores use; make others with {@link optionRule}. */
export const optionRules = {
  /** `true` or `false`. */
  boolean: optionRule((value): value is boolean => typeof value === 'boolean', 'must be a boolean'),
  /** Any string, the empty one included. */
  string: optionRule((value): value is string => typeof value === 'string', 'must be a string'),
  /** A count: 1, 2, 3… */
  positiveInteger: optionRule((value): value is number => Number.isInteger(value) && (value as number) > 0, 'must be a positive integer'),
  /** Whole milliseconds, as Redis and PostgreSQL take them. */
  positiveIntegerMs: optionRule((value): value is number => Number.isInteger(value) && (value as number) > 0, 'must be a positive integer of ms'),
  /** A duration that may have a fraction, such as a timer's. */
  positiveMs: optionRule((value): value is number => isNumber(value) && Number.isFinite(value) && value > 0, 'must be a positive number of ms'),
  /** A duration where 0 turns something off. */
  msOrZero: optionRule((value): value is number => isNumber(value) && Number.isFinite(value) && value >= 0, 'must be a number of ms, 0 or more'),
  /** Whole milliseconds where 0 turns something off. */
  integerMsOrZero: optionRule((value): value is number => Number.isInteger(value) && (value as number) >= 0, 'must be a non-negative integer of ms'),
  /** A nested group of options; `example` shows one. */
  object: (example: string) => optionRule((value): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value),
    `must be an object such as ${example}`)
} as const

/** Checks the options of one store; every message names the option as `<store> options.<name>`. */
export interface OptionChecks {
  /** `value` when it follows `rule`; anything else, `undefined` included, throws. */
  required<T> (name: string, value: unknown, rule: OptionRule<T>): T
  /** `value` when it follows `rule`, `undefined` when it is undefined; anything else throws. */
  optional<T> (name: string, value: unknown, rule: OptionRule<T>): T | undefined
  /** `value` when it follows `rule`, `fallback` when it is undefined; anything else throws. */
  withDefault<T> (name: string, value: unknown, rule: OptionRule<T>, fallback: T): T
  /** Throws `FST_SPOTIFY_INVALID_OPTION`: `<store> options.<name> <says>`. */
  fail (name: string, says: string): never
}

/**
 * The option checks of the store made by `store` (the factory's name, such
 * as `redisStore`).
 *
 * ```ts
 * const option = optionChecks('myStore')
 * const prefix = option.withDefault('prefix', options.prefix, optionRules.string, 'spotify-auth:')
 * ```
 */
export function optionChecks (store: string): OptionChecks {
  function fail (name: string, says: string): never {
    throw new InvalidOptionError(`${store} options.${name} ${says}`)
  }
  function required<T> (name: string, value: unknown, rule: OptionRule<T>): T {
    if (!rule.test(value)) fail(name, rule.says)
    return value
  }
  return {
    required,
    optional: (name, value, rule) => value === undefined ? undefined : required(name, value, rule),
    withDefault: (name, value, rule, fallback) => value === undefined ? fallback : required(name, value, rule),
    fail
  }
}
