/**
 * The file-system calls a restore makes on restored entries, shared by the restore itself
 * (`restore.ts`: directories, links, the metadata applied last) and its writer worker
 * (`restore_writer_worker.ts`: file contents). Synchronous `node:fs` calls.
 *
 * @module
 */

import fs from "node:fs";

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
}

/** Writes all of `data` at `position` of the open file `fd`. */
export function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position + done);
  }
}

/**
 * Sets mode, owner (as root) and times; symlinks get only times (and owner). With `fd`, mode and
 * owner go through the open file; times always go by path, since Deno's `futimesSync` rounds
 * milliseconds down (it set 0.089 s as 0.088 s here) where `utimesSync` does not.
 */
export function applyMetadata(
  path: string,
  node: EntryMetadata,
  asRoot: boolean,
  fd?: number,
): void {
  const mtime = nsToDate(node.mtime);
  const atime = node.atime !== undefined ? nsToDate(node.atime) : mtime;
  if (fd !== undefined) {
    if (asRoot && node.uid !== undefined && node.gid !== undefined) {
      fs.fchownSync(fd, node.uid, node.gid);
    }
    fs.fchmodSync(fd, node.mode);
    fs.utimesSync(path, atime, mtime);
    return;
  }
  if (node.type === "symlink") {
    if (asRoot && node.uid !== undefined && node.gid !== undefined) {
      fs.lchownSync(path, node.uid, node.gid);
    }
    fs.lutimesSync(path, atime, mtime);
    return;
  }
  if (asRoot && node.uid !== undefined && node.gid !== undefined) {
    fs.chownSync(path, node.uid, node.gid);
  }
  fs.chmodSync(path, node.mode);
  fs.utimesSync(path, atime, mtime);
}

/**
 * Nanoseconds since the epoch (decimal string) as a Date, for utimes. Deno sets file times to
 * the millisecond (docs/format.md §8), and a Date carries exactly that, where a float of seconds
 * can round 0.089 down to 0.088.
 */
export function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}
