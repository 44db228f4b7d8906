/**
 * A Bloom filter of blob ids: a set that answers "maybe" or "certainly not" in about 10 bits
 * per id, where a `Set<string>` of 64-digit hex ids costs well over 100 bytes per id.
 *
 * Blob ids are HMAC-SHA-256 outputs (docs/format.md §6.3): uniform and independent bits, so
 * the `k` bit positions of an id are simply `k` 32-bit slices of it, taken modulo the filter's
 * size; no further hashing is needed. Ids an adversary could choose are no concern: choosing
 * them needs the MAC key.
 *
 * `has` never answers false for an id that was added. It answers true for an id that was not
 * added with probability about `(1 - e^(-k n / m))^k` for `n` ids in `m` bits: about 0.8% at
 * the default 10 bits per id (k = 7), as long as no more ids are added than it was sized for.
 *
 * @module
 */

/** The most bits a filter has: each position is a 32-bit slice of the id. */
const MAX_BITS = 2 ** 32;
/** 32-bit slices in a 64-digit hex id. */
const MAX_HASHES = 8;

export class BloomFilter {
  /** Number of bits. */
  readonly bits: number;
  /** Number of positions set per id. */
  readonly hashes: number;
  #words: Uint32Array;

  /**
   * A filter for up to `count` ids at `bitsPerId` bits each (default 10), with the number of
   * positions per id that minimises false positives (`bitsPerId * ln 2`, between 1 and 8).
   * At most 2^32 bits (512 MiB): beyond ~430 million ids the rate of false positives grows.
   */
  static forCount(count: number, bitsPerId = 10): BloomFilter {
    if (!(count >= 0) || !(bitsPerId > 0)) {
      throw new RangeError(`a Bloom filter needs count ≥ 0 and bits per id > 0`);
    }
    const bits = Math.min(MAX_BITS, Math.max(64, Math.ceil(count * bitsPerId / 32) * 32));
    const hashes = Math.min(MAX_HASHES, Math.max(1, Math.round(bitsPerId * Math.LN2)));
    return new BloomFilter(bits, hashes);
  }

  constructor(bits: number, hashes: number) {
    if (!Number.isInteger(bits) || bits < 32 || bits > MAX_BITS || bits % 32 !== 0) {
      throw new RangeError(
        `a Bloom filter's bits must be a multiple of 32 up to 2^32, not ${bits}`,
      );
    }
    if (!Number.isInteger(hashes) || hashes < 1 || hashes > MAX_HASHES) {
      throw new RangeError(`a Bloom filter uses 1 to ${MAX_HASHES} hashes, not ${hashes}`);
    }
    this.bits = bits;
    this.hashes = hashes;
    this.#words = new Uint32Array(bits / 32);
  }

  /** Bytes of memory the bits take. */
  get bytes(): number {
    return this.#words.byteLength;
  }

  /** Adds an id (64 hex digits). */
  add(id: string): void {
    for (let i = 0; i < this.hashes; i++) {
      const bit = slice(id, i) % this.bits;
      this.#words[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  /** False when `id` was certainly never added; true when it probably was. */
  has(id: string): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const bit = slice(id, i) % this.bits;
      if ((this.#words[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** The `i`-th 32-bit slice of a hex id, as an unsigned number. */
function slice(id: string, i: number): number {
  if (id.length !== 64) throw new TypeError(`blob id "${id}" is not 64 hex digits`);
  let value = 0;
  for (let at = 8 * i, end = at + 8; at < end; at++) {
    value = value * 16 + nibble(id.charCodeAt(at), id);
  }
  return value;
}

function nibble(code: number, id: string): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  throw new TypeError(`blob id "${id}" is not 64 hex digits`);
}
