/**
 * Where a pack's bytes go while it is built: `PackBuffer` in memory, or `PackSpool` in a
 * temporary file (a data pack of a backup with a cache folder; see there).
 *
 * `PackBuffer` is an append-only byte buffer, so a pack is held once rather than as a
 * list of frames plus their concatenation, and never copied when it is finished.
 *
 * It is a resizable `ArrayBuffer` that reserves the expected size up front and grows into it
 * (the memory is committed only as it is used). `take()` hands the bytes over without a copy:
 * the buffer already has exactly their length, so the view owns its whole buffer and can be
 * transferred to the storage worker as is. (`ArrayBuffer.prototype.transfer(length)` to trim a
 * fixed-length buffer copies the bytes in V8, holding the pack twice for a moment: measured as
 * a 64 MiB step in a first backup's peak RSS, docs/bench.md.) A pack that runs past the
 * reservation is copied once into one twice the size.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { openTemp, removeTemp } from "../../plugins/sdk/temp_file.ts";

export class PackBuffer {
  #buffer: ArrayBuffer;
  #bytes: Uint8Array;

  /** `expected`: the size the pack will most likely reach (target plus a frame). */
  constructor(expected: number) {
    this.#buffer = new ArrayBuffer(0, { maxByteLength: Math.max(expected, 4096) });
    this.#bytes = new Uint8Array(this.#buffer); // tracks the buffer's length
  }

  get length(): number {
    return this.#buffer.byteLength;
  }

  append(bytes: Uint8Array): void {
    const start = this.#buffer.byteLength;
    const end = start + bytes.length;
    if (end > this.#buffer.maxByteLength) {
      const bigger = new ArrayBuffer(start, {
        maxByteLength: Math.max(end, this.#buffer.maxByteLength * 2),
      });
      new Uint8Array(bigger).set(this.#bytes);
      this.#buffer.transfer(0); // frees the old bytes now
      this.#buffer = bigger;
      this.#bytes = new Uint8Array(bigger);
    }
    this.#buffer.resize(end);
    this.#bytes.set(bytes, start);
  }

  /**
   * The bytes appended so far, in a view of the whole buffer (which has exactly their length;
   * do not resize it). The PackBuffer is spent.
   */
  take(): Uint8Array {
    const out = new Uint8Array(this.#buffer, 0, this.#buffer.byteLength);
    this.#buffer = new ArrayBuffer(0);
    this.#bytes = new Uint8Array(0);
    return out;
  }
}

/**
 * A data pack being built, spooled to a temporary file instead of memory, so a backup holds a
 * frame of it at a time rather than the whole pack (64 MiB by default). It hashes the bytes as
 * they are appended: the pack id (docs/format.md §6, the SHA-256 of the whole pack) is known
 * when the last byte is written. Only packs whose bytes are final once appended may be spooled:
 * a data pack's header is never patched afterwards (a metadata pack's version byte may be,
 * §6.1, so those stay in a `PackBuffer`).
 *
 * The file (`<dir>/<random>`, mode 0600) is locked while this process uses it (`openTemp`), so
 * `PackSpool.sweep` at a later start removes only what a killed run left. `discard` removes it
 * once the pack is stored or given up.
 */
export class PackSpool {
  readonly path: string;
  #file: Deno.FsFile;
  #hash: Hash = createHash("sha256");
  #length = 0;
  #sealed = false;
  #discarded = false;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** A new, empty spool file in folder `dir` (created, mode 0700, if missing). */
  static async create(dir: string): Promise<PackSpool> {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const { path, file } = await openTemp(dir, { read: true });
      return new PackSpool(path, file);
    } catch (e) {
      throw spoolError(e, dir);
    }
  }

  /**
   * Removes the spool files in `dir` that no process is writing (left by a killed run); a
   * missing folder is fine.
   */
  static async sweep(dir: string): Promise<void> {
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (entry.isFile) await removeTemp(`${dir}/${entry.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  get length(): number {
    return this.#length;
  }

  /** Writes `bytes` at the end of the file (synchronously: a frame at a time) and hashes them. */
  append(bytes: Uint8Array): void {
    if (this.#sealed) throw new Error(`pack spool "${this.path}" is already sealed`);
    try {
      for (let done = 0; done < bytes.length;) {
        done += this.#file.writeSync(bytes.subarray(done));
      }
    } catch (e) {
      throw spoolError(e, this.path);
    }
    this.#hash.update(bytes);
    this.#length += bytes.length;
  }

  /** The SHA-256 (hex) of every byte appended; no more may be appended. */
  seal(): string {
    if (this.#sealed) throw new Error(`pack spool "${this.path}" is already sealed`);
    this.#sealed = true;
    return this.#hash.digest("hex");
  }

  /**
   * The sealed file's bytes from the start, in fresh pieces of at most `size` bytes; one reader
   * at a time. They are read through the handle that wrote them, not by name: a spool file
   * removed meanwhile (a sweep where the file system has no locks) is still read whole. Bytes
   * changed by another process are not noticed here: the store checks the SHA-256 it is told,
   * or the caller the whole pack's.
   */
  async *pieces(size: number): AsyncGenerator<Uint8Array> {
    if (!this.#sealed) throw new Error(`pack spool "${this.path}" is read before it is sealed`);
    const file = this.#file;
    await file.seek(0, Deno.SeekMode.Start);
    for (let offset = 0; offset < this.#length;) {
      const piece = new Uint8Array(Math.min(size, this.#length - offset));
      for (let got = 0; got < piece.length;) {
        const n = await file.read(piece.subarray(got));
        if (n === null) {
          throw new Deno.errors.UnexpectedEof(
            `pack spool "${this.path}" ended at ${offset + got} of ${this.#length} bytes`,
          );
        }
        got += n;
      }
      offset += piece.length;
      yield piece;
    }
  }

  /** Removes the file (then unlocks it); later calls do nothing. */
  async discard(): Promise<void> {
    if (this.#discarded) return;
    this.#discarded = true;
    await Deno.remove(this.path).catch(() => {});
    this.#file.close();
  }
}

/** A spool write that failed, said so; a full disk named as such. */
function spoolError(e: unknown, where: string): Error {
  if (!(e instanceof Error)) return new Error(String(e));
  const full = /no space left|os error 28|ENOSPC/i.test(e.message) ||
    (e as { code?: string }).code === "ENOSPC";
  const why = full ? "the disk is full" : e.message;
  return new Error(
    `pack spool "${where}" could not be written: ${why}; free space there or set ` +
      `PERMAFROST_CACHE_DIR to a folder with room for a pack`,
    { cause: e },
  );
}
