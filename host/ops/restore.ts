/**
 * `restore`: executes a restore plan into a target folder, byte-exact, with modes, mtimes,
 * symlinks and hard links. Reads only the frames the plan names, in pack and offset order,
 * coalescing neighbouring frames into one ranged read; verifies every blob id after decrypting.
 *
 * @module
 */

import fs from "node:fs";
import { dirname, join, resolve } from "node:path";
import { blobId } from "../crypto/mac.ts";
import { IntegrityError } from "../crypto/errors.ts";
import type { Repository } from "../repository/repository.ts";
import type { PlannedFrame, PlannedPack, RestorePlan } from "./restore_plan.ts";

/** Frames closer than this are read in one request. */
const COALESCE_GAP = 1 << 20;
/** The most bytes one ranged read asks for. */
const MAX_READ = 16 << 20;

export interface RestoreOptions {
  target: string;
  onProgress?: (files: number, bytes: number) => void;
}

export interface RestoreResult {
  target: string;
  files: number;
  dirs: number;
  bytes: number;
  packs: number;
  readBytes: number;
}

/** Restores what `plan` names under `options.target` (created if missing). */
export async function executeRestore(
  repo: Repository,
  plan: RestorePlan,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const target = resolve(options.target);
  prepareTarget(target);
  const abs = (rel: string) => join(target, rel);

  // 1. Directories and empty files: the skeleton every write lands in.
  const targets = new Map<string, { path: string; offset: number }[]>();
  for (const e of plan.entries) {
    const path = abs(e.rel);
    if (e.node.type === "dir") {
      makeDir(path);
    } else if (e.node.type === "file" && e.linkTo === undefined) {
      clearPath(path);
      const fd = fs.openSync(path, "wx", 0o600);
      if (e.node.size) fs.ftruncateSync(fd, e.node.size);
      fs.closeSync(fd);
      let offset = 0;
      for (const id of e.node.content ?? []) {
        let list = targets.get(id);
        if (!list) targets.set(id, list = []);
        list.push({ path, offset });
        offset += repo.index.get(id)!.length;
      }
    }
  }

  // 2. Contents, pack by pack, one ranged read per run of nearby frames.
  let written = 0;
  let readBytes = 0;
  for (const pack of plan.packs) {
    const key = await repo.dataKey(pack.pack, pack.metadata);
    const object = repo.packObject(pack.pack, pack.metadata);
    for (const run of frameRuns(pack)) {
      const start = run[0].frameOffset;
      const end = run[run.length - 1].frameOffset + run[run.length - 1].frameLength;
      const bytes = await repo.storage.read(object, { offset: start, length: end - start });
      readBytes += bytes.length;
      for (const frame of run) {
        const plain = repo.openFrame(
          key,
          bytes.subarray(frame.frameOffset - start, frame.frameOffset - start + frame.frameLength),
          frame.frameOffset,
          pack.pack,
        );
        for (const blob of frame.blobs) {
          const data = plain.subarray(blob.offsetInFrame, blob.offsetInFrame + blob.length);
          if (data.length !== blob.length || blobId(repo.keys.macKey, data) !== blob.id) {
            throw new IntegrityError(
              `pack "${pack.pack}" is damaged: blob "${blob.id}" does not match its id`,
            );
          }
          for (const t of targets.get(blob.id) ?? []) {
            const fd = fs.openSync(t.path, "r+");
            try {
              writeAll(fd, data, t.offset);
            } finally {
              fs.closeSync(fd);
            }
            written += data.length;
          }
        }
      }
      options.onProgress?.(0, written);
    }
  }

  // 3. Links, then metadata (directories last, deepest first, so their mtimes stick).
  for (const e of plan.entries) {
    const path = abs(e.rel);
    if (e.node.type === "symlink") {
      clearPath(path);
      fs.symlinkSync(e.node.target ?? "", path);
    } else if (e.linkTo !== undefined) {
      clearPath(path);
      fs.linkSync(abs(e.linkTo), path);
    }
  }
  const asRoot = Deno.uid() === 0;
  let files = 0;
  for (const e of plan.entries) {
    if (e.node.type === "dir" || e.linkTo !== undefined) continue;
    applyMetadata(abs(e.rel), e.node, asRoot);
    if (e.node.type === "file") files++;
  }
  options.onProgress?.(files, written);
  const dirs = plan.entries.filter((e) => e.node.type === "dir").sort((a, b) =>
    b.rel.length - a.rel.length
  );
  for (const e of dirs) applyMetadata(abs(e.rel), e.node, asRoot);
  return {
    target,
    files: plan.files,
    dirs: plan.dirs,
    bytes: plan.bytes,
    packs: plan.packs.length,
    readBytes,
  };
}

/** Groups a pack's frames into runs read with one request each. */
export function frameRuns(pack: PlannedPack): PlannedFrame[][] {
  const runs: PlannedFrame[][] = [];
  let run: PlannedFrame[] = [];
  for (const f of pack.frames) {
    const last = run[run.length - 1];
    if (
      last &&
      (f.frameOffset - (last.frameOffset + last.frameLength) > COALESCE_GAP ||
        f.frameOffset + f.frameLength - run[0].frameOffset > MAX_READ)
    ) {
      runs.push(run);
      run = [];
    }
    run.push(f);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function prepareTarget(target: string): void {
  try {
    fs.mkdirSync(target, { recursive: true });
    const probe = join(target, `.permafrost-write-test-${crypto.randomUUID()}`);
    fs.writeFileSync(probe, "");
    fs.unlinkSync(probe);
  } catch (err) {
    throw new Deno.errors.PermissionDenied(
      `target "${target}" is not writable: ${err instanceof Error ? err.message : err}`,
    );
  }
}

/** Makes a directory, replacing anything that is not one (never following a symlink). */
function makeDir(path: string): void {
  const st = lstatOrNull(path);
  if (st?.isDirectory()) return;
  if (st) fs.rmSync(path, { force: true });
  fs.mkdirSync(dirname(path), { recursive: true });
  fs.mkdirSync(path, { mode: 0o700 });
}

/** Removes whatever is at `path` so a file, link or symlink can be created there. */
function clearPath(path: string): void {
  const st = lstatOrNull(path);
  if (st === null) return;
  fs.rmSync(path, { recursive: st.isDirectory(), force: true });
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position + done);
  }
}

/** Sets mode, owner (as root) and times; symlinks get only times (and owner). */
function applyMetadata(
  path: string,
  node: { type: string; mode: number; mtime: string; atime?: string; uid?: number; gid?: number },
  asRoot: boolean,
): void {
  const mtime = nsToSeconds(node.mtime);
  const atime = node.atime !== undefined ? nsToSeconds(node.atime) : mtime;
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

/** Nanoseconds since the epoch (decimal string) to seconds, for utimes. */
export function nsToSeconds(ns: string): number {
  const n = BigInt(ns);
  const s = n / 1_000_000_000n;
  const rest = n % 1_000_000_000n;
  return Number(s) + Number(rest) / 1e9;
}
