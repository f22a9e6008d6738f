/**
 * Argument checks of the user-side API, as Node checks its own APIs
 * (lib/internal/validators.js): a value no C caller could pass (NaN,
 * Infinity, a fraction, undefined, a string, a bigint where an int is
 * expected) is the caller's programming error and throws TypeError
 * ERR_INVALID_ARG_TYPE or RangeError ERR_OUT_OF_RANGE, naming the function
 * and the argument. Every integer a C caller could pass goes through: an
 * unsigned long takes any integer (number or bigint; negative or >= 2^64
 * values wrap as the register would hold them, src/include/ulong.ts), an
 * int any integer in [-2^31, 2^31).
 */
import type { UlongArg } from '../include/ulong.js'
import { MAX_RW_COUNT } from '../fs/read_write.js'
export { MAX_RW_COUNT }

function received(v: unknown): string {
  if (v === null || v === undefined) return ` Received ${String(v)}`
  if (typeof v === 'bigint') return ` Received type bigint (${v}n)`
  if (typeof v === 'number') return ` Received type number (${v})`
  if (typeof v === 'function') return ' Received function'
  if (typeof v === 'object') {
    const ctor: unknown = (v as { constructor?: unknown }).constructor
    return ` Received an instance of ${typeof ctor === 'function' && ctor.name ? ctor.name : 'Object'}`
  }
  if (typeof v === 'symbol') return ` Received type symbol (${v.toString()})`
  return ` Received type ${typeof v} (${JSON.stringify(v)})`
}

export class ERR_INVALID_ARG_TYPE extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE'
  constructor(fn: string, name: string, expected: string, v: unknown) {
    super(`${fn}: The "${name}" argument must be ${expected}.${received(v)}`)
  }
  override get name(): string {
    return 'TypeError'
  }
}

export class ERR_OUT_OF_RANGE extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE'
  constructor(fn: string, name: string, range: string, v: unknown) {
    super(`${fn}: The value of "${name}" is out of range. It must be ${range}. Received ${typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? String(v) : received(v).slice(10)}`)
  }
  override get name(): string {
    return 'RangeError'
  }
}

/** An unsigned long (address, length, prot, flags, offset): any integer, number or bigint. */
export function arg_ulong(fn: string, name: string, v: unknown): UlongArg {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v
    throw new ERR_OUT_OF_RANGE(fn, name, 'an integer', v)
  }
  if (typeof v === 'bigint') return v
  throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type number or bigint', v)
}

/** An int (descriptor, advice, flags of the int-flag calls): an integer number in [-2^31, 2^31). */
export function arg_int(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type number', v)
  if (!Number.isInteger(v)) throw new ERR_OUT_OF_RANGE(fn, name, 'an integer', v)
  if (v < -(2 ** 31) || v >= 2 ** 31) throw new ERR_OUT_OF_RANGE(fn, name, '>= -2147483648 && <= 2147483647', v)
  return v
}

/** A byte count the caller's side holds in a JS buffer: an integer number in [0, MAX_RW_COUNT]. */
export function arg_count(fn: string, name: string, v: unknown, max = MAX_RW_COUNT): number {
  if (typeof v !== 'number') throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type number', v)
  if (!Number.isInteger(v) || v < 0 || v > max) throw new ERR_OUT_OF_RANGE(fn, name, `an integer >= 0 && <= ${max}`, v)
  return v
}

/** The bytes of a store or write: a Uint8Array, or an array of byte values. */
export function arg_bytes(fn: string, name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  if (Array.isArray(v)) {
    for (const b of v) if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) throw new ERR_OUT_OF_RANGE(fn, `${name}[]`, 'an integer >= 0 && <= 255', b)
    return Uint8Array.from(v as number[])
  }
  throw new ERR_INVALID_ARG_TYPE(fn, name, 'an instance of Uint8Array or Array', v)
}

/** A path: a string. */
export function arg_string(fn: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type string', v)
  return v
}

/**
 * An unsigned argument narrower than a long (mknod's umode_t mode and
 * unsigned dev, ioctl's unsigned int cmd): any integer, number or bigint,
 * of which the kernel sees the low `bits` bits, as the register truncated
 * to the C type holds it.
 */
export function arg_uint(fn: string, name: string, v: unknown, bits: 16 | 32): number {
  const u = arg_ulong(fn, name, v)
  if (typeof u === 'number' && u >= 0 && u < 2 ** bits) return u
  return Number(BigInt.asUintN(bits, BigInt(u)))
}

/** poll(2)'s struct pollfd array: an array of objects with integer fd and events (revents is written). */
export function arg_pollfds(fn: string, name: string, v: unknown): { fd: number; events: number; revents: number }[] {
  if (!Array.isArray(v)) throw new ERR_INVALID_ARG_TYPE(fn, name, 'an instance of Array', v)
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i]
    if (typeof e !== 'object' || e === null) throw new ERR_INVALID_ARG_TYPE(fn, `${name}[${i}]`, 'of type object', e)
    arg_int(fn, `${name}[${i}].fd`, (e as { fd?: unknown }).fd)
    arg_int(fn, `${name}[${i}].events`, (e as { events?: unknown }).events)
  }
  return v as { fd: number; events: number; revents: number }[]
}

/** An object argument the call reads or fills in (struct rlimit...). */
export function arg_object(fn: string, name: string, v: unknown): object {
  if (typeof v !== 'object' || v === null) throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type object', v)
  return v
}
