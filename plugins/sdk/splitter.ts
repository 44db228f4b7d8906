/**
 * How an engine cuts a file's bytes into the chunks it stores (docs/plugins.md §5.3): the walker
 * (`walker.ts`) reads each file and feeds a {@link Splitter}. The dedup engine's is FastCDC
 * (content-defined, so an edit moves few cut points); {@link LimitSplitter} cuts only every
 * `limit` bytes, so a file up to `limit` bytes is one chunk.
 *
 * @module
 */

import fs from "node:fs";
import { release } from "./bytes.ts";

/**
 * Cuts one file's bytes into chunks, fed in order; reused file after file.
 *
 * Contract:
 * - `push(bytes)` returns the chunks the bytes complete (often none) and does not keep `bytes`:
 *   the caller reuses it as soon as `push` returns.
 * - `finish()` returns the rest (none for an empty file) and resets for the next file.
 * - Every chunk returned exclusively owns its `ArrayBuffer` (`byteOffset` 0, `byteLength` the
 *   buffer's), since it is transferred to the host; none is longer than the config's
 *   `blobLimit`; the chunks of a file concatenate to its bytes.
 */
export interface Splitter {
  push(bytes: Uint8Array): Uint8Array[];
  finish(): Uint8Array[];
}

/** Read size for files: each read is fed to the splitter. */
export const READ_SIZE = 4 << 20;

/**
 * For each file (absolute), the lengths {@link LimitSplitter}`(limit)` cuts it into, from its
 * size alone: no file is read (`split` of an engine that cuts at fixed offsets).
 */
export function limitLengths(paths: string[], limit: number): number[][] {
  return paths.map((p) => {
    const lengths: number[] = [];
    for (let left = fs.statSync(p).size; left > 0; left -= limit) {
      lengths.push(Math.min(limit, left));
    }
    return lengths;
  });
}

/**
 * A splitter that cuts only every `limit` bytes: a file is one chunk when it is at most `limit`
 * bytes long (the whole file is then held in memory until `finish`).
 */
export class LimitSplitter implements Splitter {
  #pieces: Uint8Array[] = [];
  #len = 0;

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new RangeError(`splitter limit ${limit} is not a positive whole number of bytes`);
    }
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < bytes.length) {
      const take = Math.min(this.limit - this.#len, bytes.length - i);
      this.#pieces.push(bytes.slice(i, i + take));
      this.#len += take;
      i += take;
      if (this.#len === this.limit) out.push(this.#join());
    }
    return out;
  }

  finish(): Uint8Array[] {
    return this.#len === 0 ? [] : [this.#join()];
  }

  #join(): Uint8Array {
    const pieces = this.#pieces;
    let chunk: Uint8Array;
    if (pieces.length === 1) {
      chunk = pieces[0]; // a slice: owns its buffer
    } else {
      chunk = new Uint8Array(this.#len);
      let off = 0;
      for (const p of pieces) {
        chunk.set(p, off);
        off += p.length;
        release(p);
      }
    }
    this.#pieces = [];
    this.#len = 0;
    return chunk;
  }
}

/**
 * The lengths of the chunks `splitter` cuts the file at `path` into, as a backup would cut it
 * (for `diff --content`, which compares the keyed ids of the pieces with a snapshot's). Throws
 * what reading the file throws, and a `TypeError` for a path that is not a regular file: it is
 * opened without blocking, so a FIFO put in a file's place is not waited on.
 */
export function chunkLengths(path: string, splitter: Splitter, buffer?: Uint8Array): number[] {
  const lengths: number[] = [];
  const take = (chunks: Uint8Array[]) => {
    for (const c of chunks) {
      lengths.push(c.length);
      release(c);
    }
  };
  const buf = buffer ?? new Uint8Array(READ_SIZE);
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) {
      throw new TypeError(`"${path}" is not a regular file; its contents were not read`);
    }
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      take(splitter.push(n === buf.length ? buf : buf.subarray(0, n)));
    }
    take(splitter.finish());
  } finally {
    fs.closeSync(fd);
  }
  return lengths;
}
