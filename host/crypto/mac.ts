/**
 * Blob ids (docs/format.md §3 "Blob ids"): a keyed MAC of the plaintext, so ids reveal nothing
 * about content to anyone without the MAC key, and equal content dedups across clients that
 * share the repository.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** Length in bytes of a MAC key. */
export const MAC_KEY_LENGTH = 32;

/** SHA-256's block size: HMAC pads its key to one block (RFC 2104). */
const BLOCK = 64;

/**
 * SHA-256 states after the key's inner and outer pad blocks, for the last key used. A backup
 * hashes every blob with the same key; `createHmac` would absorb both pad blocks again on each
 * call (about 6 µs of a 14 KB blob's 21 µs; docs/bench.md, "First backup: where the CPU goes").
 */
let padded: { key: Uint8Array; inner: Hash; outer: Hash } | undefined;

function padStates(macKey: Uint8Array): { inner: Hash; outer: Hash } {
  if (padded !== undefined && sameBytes(padded.key, macKey)) return padded;
  const ipad = new Uint8Array(BLOCK).fill(0x36);
  const opad = new Uint8Array(BLOCK).fill(0x5c);
  for (let i = 0; i < macKey.length; i++) {
    ipad[i] ^= macKey[i];
    opad[i] ^= macKey[i];
  }
  padded = {
    // A copy (not `slice`: a Buffer's is a view): the caller may reuse its array for another key.
    key: new Uint8Array(macKey),
    inner: createHash("sha256").update(ipad),
    outer: createHash("sha256").update(opad),
  };
  return padded;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The blob id of `data`: lowercase hex of HMAC-SHA-256(macKey, data) (64 characters), computed
 * as RFC 2104 defines it, H((K ⊕ opad) || H((K ⊕ ipad) || data)), from saved pad states.
 */
export function blobId(macKey: Uint8Array, data: Uint8Array): string {
  if (macKey.length !== MAC_KEY_LENGTH) {
    throw new RangeError(`MAC key is ${macKey.length} bytes, expected ${MAC_KEY_LENGTH}`);
  }
  const { inner, outer } = padStates(macKey);
  return outer.copy().update(inner.copy().update(data).digest()).digest("hex");
}
