/**
 * Strict readers for the JSON objects of docs/format.md (config, key files, trees, snapshots).
 * Every failure is a `FormatError` naming the object and the field path, e.g.
 * `config field "chunker.avg" must be a power of two, got 1000`. Unknown fields are errors too:
 * a version 1 object has exactly the fields the spec lists (new fields mean a new version).
 *
 * @module
 */

import { fromUtf8 } from "../crypto/bytes.ts";
import { FormatError } from "./errors.ts";

const HEX64 = /^[0-9a-f]{64}$/;
const DECIMAL = /^-?(0|[1-9][0-9]{0,19})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses UTF-8 JSON; `FormatError` naming `what` when the bytes are not UTF-8 JSON. */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    // Not JSON.parse's message: it quotes the input, which may be a secret given by mistake.
    throw new FormatError(`${what} is not UTF-8 JSON`);
  }
}

/** Whether `s` is 64 lowercase hex digits (an object or blob id). */
export function isHex64(s: unknown): s is string {
  return typeof s === "string" && HEX64.test(s);
}

/** Whether `s` is an ISO 8601 / RFC 3339 date-time that `Date` understands. */
export function isIsoTime(s: unknown): s is string {
  return typeof s === "string" && ISO_TIME.test(s) && !Number.isNaN(Date.parse(s));
}

/** Reads the fields of one JSON object, tracking which were read so `done()` can reject extras. */
export class Fields {
  readonly #obj: Record<string, unknown>;
  readonly #seen = new Set<string>();

  /** `path` prefixes field names in messages (`"chunker."` for a nested object). */
  constructor(value: unknown, readonly what: string, readonly path = "") {
    if (!isObject(value)) throw new FormatError(`${what} is not a JSON object`);
    this.#obj = value;
  }

  /** A FormatError about field `key`. */
  error(key: string, problem: string): FormatError {
    return new FormatError(`${this.what} field "${this.path}${key}" ${problem}`);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.#obj, key);
  }

  /** The raw value of `key` (required). */
  raw(key: string): unknown {
    this.#seen.add(key);
    if (!this.has(key)) throw this.error(key, "is missing");
    return this.#obj[key];
  }

  string(key: string): string {
    const v = this.raw(key);
    if (typeof v !== "string") throw this.error(key, `must be a string, got ${show(v)}`);
    return v;
  }

  int(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw this.error(key, `must be an integer in ${min}..${max}, got ${show(v)}`);
    }
    return v;
  }

  literal<T extends string | number>(key: string, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (!allowed.includes(v as T)) {
      // A higher version than any this reader knows was written by a newer Permafrost (§12).
      const newer = key === "version" && typeof v === "number" &&
        allowed.every((a) => typeof a === "number" && a < v);
      throw this.error(
        key,
        `must be one of ${allowed.map(show).join(", ")}, got ${show(v)}${
          newer ? " (written by a newer version of Permafrost: upgrade to read it)" : ""
        }`,
      );
    }
    return v as T;
  }

  hex64(key: string): string {
    const v = this.raw(key);
    if (!isHex64(v)) throw this.error(key, `must be 64 lowercase hex digits, got ${show(v)}`);
    return v;
  }

  /** A signed decimal integer string (up to 20 digits), e.g. nanoseconds or an inode number. */
  decimal(key: string): string {
    const v = this.raw(key);
    if (typeof v !== "string" || !DECIMAL.test(v) || v === "-0") {
      throw this.error(key, `must be a decimal integer string, got ${show(v)}`);
    }
    return v;
  }

  isoTime(key: string): string {
    const v = this.raw(key);
    if (!isIsoTime(v)) throw this.error(key, `must be an ISO 8601 date-time, got ${show(v)}`);
    return v;
  }

  /** Standard padded base64 decoding to exactly `length` bytes. */
  base64(key: string, length: number): Uint8Array {
    const v = this.raw(key);
    if (typeof v !== "string" || !BASE64.test(v)) {
      throw this.error(key, "must be padded standard base64");
    }
    const bytes = Uint8Array.fromBase64(v);
    if (bytes.length !== length) {
      throw this.error(key, `must hold ${length} bytes, got ${bytes.length}`);
    }
    return bytes;
  }

  /** Padded standard base64 of any length. */
  base64Any(key: string): Uint8Array {
    const v = this.raw(key);
    if (typeof v !== "string" || !BASE64.test(v)) {
      throw this.error(key, "must be padded standard base64");
    }
    return Uint8Array.fromBase64(v);
  }

  array(key: string): unknown[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) throw this.error(key, `must be an array, got ${show(v)}`);
    return v;
  }

  stringArray(key: string): string[] {
    const v = this.array(key);
    v.forEach((s, i) => {
      if (typeof s !== "string") {
        throw this.error(`${key}[${i}]`, `must be a string, got ${show(s)}`);
      }
    });
    return v as string[];
  }

  object(key: string): Fields {
    const v = this.raw(key);
    if (!isObject(v)) throw this.error(key, `must be an object, got ${show(v)}`);
    return new Fields(v, this.what, `${this.path}${key}.`);
  }

  /** Throws when the object has a field no reader asked for. */
  done(): void {
    for (const key of Object.keys(this.#obj)) {
      if (!this.#seen.has(key)) throw this.error(key, "is not part of this format version");
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}
