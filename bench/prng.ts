/**
 * Deterministic pseudo-randomness for benchmarks (never `Math.random`): the same seed gives the
 * same bytes and numbers on every machine and Deno version.
 *
 * @module
 */

import { createCipheriv, createHash } from "node:crypto";

/**
 * `n` pseudo-random bytes: the AES-128-CTR keystream under a key derived from `seed` (SHA-256),
 * starting at block `block`. Fast (GB/s with AES-NI) and incompressible.
 */
export function keystream(seed: string, n: number, block = 0): Uint8Array {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setBigUint64(8, BigInt(block));
  const out = createCipheriv("aes-128-ctr", key, iv).update(new Uint8Array(n));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** A small seeded generator (sfc32) for structure decisions: sizes, words, names. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the state from SHA-256 of `seed`. */
  constructor(seed: string) {
    const h = createHash("sha256").update(seed).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** A uniformly chosen element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** A log-uniform integer in [lo, hi]: many small values, a few large ones (file sizes). */
  logInt(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(lo * Math.pow(hi / lo, this.float())));
  }
}
