/**
 * The file-system calls a restore makes on restored entries, shared by the restore itself
 * (`restore.ts`: directories, links, the metadata applied last) and its writer worker
 * (`restore_writer_worker.ts`: file contents). Synchronous `node:fs` calls.
 *
 * @module
 */

import fs from "node:fs";
import { writeXattr, XattrError } from "../fs/xattr.ts";

/** What a restore sets on an entry besides its contents (a tree node's metadata). */
export interface EntryMetadata {
  type: "file" | "dir" | "symlink";
  mode: number;
  /** Owner, set only when restoring as root. */
  uid?: number;
  gid?: number;
  /** Nanoseconds since the epoch, as decimal strings (docs/format.md §8). */
  mtime: string;
  atime?: string;
  /** Extended attributes: [name, value as base64] (docs/format.md §8, tree version 2). */
  xattrs?: [string, string][];
}

/**
 * The fields of `node` that `applyMetadata` sets, and no others: what crosses to the writer
 * worker for each file (a tree node also carries its blob ids, name, size and inode, which the
 * worker has no use for and which cost a copy each way).
 */
export function entryMetadata(node: EntryMetadata): EntryMetadata {
  const meta: EntryMetadata = { type: node.type, mode: node.mode, mtime: node.mtime };
  if (node.uid !== undefined) meta.uid = node.uid;
  if (node.gid !== undefined) meta.gid = node.gid;
  if (node.atime !== undefined) meta.atime = node.atime;
  if (node.xattrs !== undefined && node.xattrs.length > 0) meta.xattrs = node.xattrs;
  return meta;
}

/** Writes all of `data` at `position` of the open file `fd`. */
export function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position + done);
  }
}

/** The unit holes are made in: a file system block on most Linux and macOS file systems. */
export const HOLE_BLOCK = 4096;

/**
 * Writes the parts of `data` that are not zeros at `position` of the open file `fd`, and skips
 * each run of zeros that covers whole `HOLE_BLOCK`s of the file (block boundaries are file
 * offsets), so the file system leaves a hole there instead of allocating zeros. Only for a range
 * that reads as zeros already (a new file, pre-sized with `ftruncate`): what is skipped is not
 * overwritten. Where holes are not supported, the skipped range still reads as zeros. `runs`
 * (from `dataRuns`) spares scanning the same bytes again. Returns how many bytes from the start
 * of `data` the last write reached (less than `data.length` when it ends in zeros).
 */
export function writeSparse(
  fd: number,
  data: Uint8Array,
  position: number,
  runs = dataRuns(data, position),
): number {
  let end = 0;
  for (const [start, stop] of runs) {
    writeAll(fd, data.subarray(start, stop), position + start);
    end = stop;
  }
  return end;
}

/**
 * The ranges `[start, end)` of `data` that `writeSparse` writes at `position`: everything but
 * the whole `HOLE_BLOCK`s that are zeros. Most data has a non-zero byte in its first words, so
 * a block of data costs a few reads; only a block of zeros is read to its end.
 */
export function dataRuns(data: Uint8Array, position: number): [number, number][] {
  const runs: [number, number][] = [];
  // Blocks as file offsets; the partial blocks at either end are always written.
  const first = Math.min(data.length, (HOLE_BLOCK - (position % HOLE_BLOCK)) % HOLE_BLOCK);
  const whole = Math.floor((data.length - first) / HOLE_BLOCK);
  const words = wordView(data);
  let runStart = 0;
  for (let b = 0; b < whole; b++) {
    const start = first + b * HOLE_BLOCK;
    if (!isZero(data, words, start, start + HOLE_BLOCK)) continue;
    if (start > runStart) runs.push([runStart, start]);
    runStart = start + HOLE_BLOCK;
  }
  if (runStart < data.length) runs.push([runStart, data.length]);
  return runs;
}

/**
 * `data` as 32-bit words from its first 4-aligned byte (`offset` is that byte in `data`). A view
 * too short to hold a word gets none: that boundary may lie past the end of its buffer (a blob of
 * 1-2 bytes ending a frame), where even an empty `Int32Array` cannot start.
 */
function wordView(data: Uint8Array): { words: Int32Array; offset: number } {
  const offset = (4 - (data.byteOffset % 4)) % 4;
  const count = Math.max(0, Math.floor((data.length - offset) / 4));
  const words = count === 0
    ? new Int32Array(0)
    : new Int32Array(data.buffer, data.byteOffset + offset, count);
  return { words, offset };
}

function isZero(
  data: Uint8Array,
  view: { words: Int32Array; offset: number },
  start: number,
  end: number,
): boolean {
  // Bytes up to the first word boundary, whole words, then the bytes after the last one.
  const w0 = Math.max(0, Math.ceil((start - view.offset) / 4));
  const w1 = Math.max(w0, Math.floor((end - view.offset) / 4));
  const a = view.offset + w0 * 4, b = view.offset + w1 * 4;
  for (let i = start; i < Math.min(a, end); i++) if (data[i] !== 0) return false;
  const { words } = view;
  for (let i = w0; i < w1; i++) if (words[i] !== 0) return false;
  for (let i = Math.max(b, start); i < end; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Sets owner (as root), extended attributes, mode and times; symlinks get no mode. With `fd`,
 * mode and owner go through the open file; times always go by path, since Deno's `futimesSync`
 * rounds milliseconds down (it set 0.089 s as 0.088 s here) where `utimesSync` does not.
 * The order matters: a change of owner clears `security.capability`, and the entry is still
 * writable by its owner (0600, 0700) while the attributes are set. An attribute that cannot be
 * set (not root, a file system without them) is not an error: its message is returned, for the
 * restore's warning, naming the entry `shownAs` (its final path, when it is written under a
 * temporary name that is renamed once it is complete).
 */
export function applyMetadata(
  path: string,
  node: EntryMetadata,
  asRoot: boolean,
  fd?: number,
  shownAs = path,
): string[] {
  const mtime = nsToDate(node.mtime);
  const atime = node.atime !== undefined ? nsToDate(node.atime) : mtime;
  const owned = asRoot && node.uid !== undefined && node.gid !== undefined;
  if (fd !== undefined) {
    if (owned) fs.fchownSync(fd, node.uid!, node.gid!);
    const failed = applyXattrs(path, node, shownAs);
    fs.fchmodSync(fd, node.mode);
    fs.utimesSync(path, atime, mtime);
    return failed;
  }
  if (node.type === "symlink") {
    if (owned) fs.lchownSync(path, node.uid!, node.gid!);
    const failed = applyXattrs(path, node, shownAs);
    fs.lutimesSync(path, atime, mtime);
    return failed;
  }
  if (owned) fs.chownSync(path, node.uid!, node.gid!);
  const failed = applyXattrs(path, node, shownAs);
  fs.chmodSync(path, node.mode);
  fs.utimesSync(path, atime, mtime);
  return failed;
}

/**
 * Sets `node.xattrs` on `path` (not followed); returns the message of each that failed, naming
 * the entry `shownAs`.
 */
function applyXattrs(path: string, node: EntryMetadata, shownAs: string): string[] {
  const failed: string[] = [];
  for (const [name, value] of node.xattrs ?? []) {
    try {
      writeXattr(path, name, Uint8Array.fromBase64(value));
    } catch (err) {
      const { message } = err as Error;
      // An XattrError's message starts with the path it was given.
      failed.push(
        err instanceof XattrError && shownAs !== path
          ? `"${shownAs}"${message.slice(`"${path}"`.length)}`
          : message,
      );
    }
  }
  return failed;
}

/**
 * Nanoseconds since the epoch (decimal string) as a Date, for utimes. Deno sets file times to
 * the millisecond (docs/format.md §8), and a Date carries exactly that, where a float of seconds
 * can round 0.089 down to 0.088.
 */
export function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}
