/**
 * Compression (docs/format.md §3): zstd via node:zlib (native in Deno; measured faster than any
 * WASM build, DESIGN §8). Output is a standard zstd frame, readable by any zstd decoder.
 *
 * @module
 */

import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { IntegrityError } from "./errors.ts";

/** Compresses `data` at zstd `level` (1..22; default 3). */
export function compress(data: Uint8Array, level = 3): Uint8Array {
  if (!Number.isInteger(level) || level < 1 || level > 22) {
    throw new RangeError(`zstd level "${level}" is not an integer in 1..22`);
  }
  return plain(zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: level } }));
}

/**
 * Decompresses one or more zstd frames. Throws `IntegrityError` on malformed input or when the
 * output would exceed `maxLength` bytes (a guard against decompression bombs).
 */
export function decompress(data: Uint8Array, maxLength?: number): Uint8Array {
  try {
    return plain(
      zstdDecompressSync(data, maxLength === undefined ? {} : { maxOutputLength: maxLength }),
    );
  } catch (e) {
    throw new IntegrityError(`zstd data does not decompress: ${(e as Error).message}`);
  }
}

/**
 * A plain Uint8Array over exactly the result. node:zlib returns small results inside a 16 KiB
 * buffer; copy those so a retained blob does not pin (or, if transferred, detach) the rest.
 */
function plain(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) {
    return new Uint8Array(b.buffer, 0, b.length);
  }
  return new Uint8Array(b); // a copy into a fresh, exact-size buffer
}
