/**
 * The keyed FastCDC gear table (docs/format.md §3 "Chunker"). A secret table makes chunk
 * boundaries depend on the repository's chunker key, so an observer of blob sizes cannot match
 * them against the boundaries of known files chunked with a public table.
 *
 * @module
 */

import { createHmac } from "node:crypto";

const LABEL = new TextEncoder().encode("permafrost gear v1");

/**
 * The 256-entry gear table for `chunkerKey` (32 bytes). Deterministic: block `i` (i = 0..31) is
 * HMAC-SHA-256(chunkerKey, "permafrost gear v1" || u8 i); the 32 blocks concatenated give 1024
 * bytes, read as 256 little-endian u32 values.
 */
export function gearTable(chunkerKey: Uint8Array): Uint32Array {
  if (chunkerKey.length !== 32) {
    throw new RangeError(`chunker key is ${chunkerKey.length} bytes, expected 32`);
  }
  const bytes = new Uint8Array(1024);
  const message = new Uint8Array(LABEL.length + 1);
  message.set(LABEL);
  for (let i = 0; i < 32; i++) {
    message[LABEL.length] = i;
    bytes.set(createHmac("sha256", chunkerKey).update(message).digest(), i * 32);
  }
  const view = new DataView(bytes.buffer);
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = view.getUint32(i * 4, true);
  return table;
}
