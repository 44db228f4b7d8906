/**
 * Compression (docs/format.md §3.5): zstd via node:zlib, native in Deno, so no WASM module is
 * loaded in each worker that compresses (docs/design.md §7-§8). Output is a standard zstd frame,
 * readable by any zstd decoder.
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
  // One output chunk that always fits (node:zlib's default is 16 KiB chunks, each a fresh
  // buffer left to the collector: an isolate that only compresses grew by ~75 MB of them between
  // collections, and it was slower), trimmed to the result, which frees the chunk at once.
  const chunkSize = Math.max(compressBound(data.length), MIN_OWNED_CHUNK);
  const out = zstdCompressSync(data, {
    chunkSize,
    params: { [constants.ZSTD_c_compressionLevel]: level },
  });
  const buffer = out.buffer;
  if (buffer instanceof ArrayBuffer && out.byteOffset === 0 && buffer.byteLength === chunkSize) {
    return new Uint8Array(buffer.transfer(out.length));
  }
  return plain(out);
}

/**
 * The smallest output chunk: node:zlib takes chunks under 4 KiB from Buffer's shared pool, and
 * `compress` may free its chunk only when the chunk is a buffer of its own.
 */
const MIN_OWNED_CHUNK = 8192;

/** zstd's `ZSTD_COMPRESSBOUND`: the largest output for `n` input bytes, plus room for a header. */
function compressBound(n: number): number {
  return n + (n >>> 8) + (n < 128 << 10 ? ((128 << 10) - n) >>> 11 : 0) + 64;
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
