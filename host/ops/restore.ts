/**
 * `restore`: executes a restore plan into a target folder, byte-exact, with modes, mtimes,
 * symlinks and hard links. Reads only the frames the plan names, in pack and offset order,
 * coalescing neighbouring frames into one ranged read; verifies every blob id after decrypting.
 * When a pack is missing, the blobs not yet written from it are read from other copies the index
 * knows; when a frame does not verify, only its blobs are; when a blob's bytes do not match its
 * id (a wrong entry), only that blob is. A blob with no other copy stops the restore, naming the
 * pack, a file that needs it, and the check that finds what is wrong (docs/security.md "Poison
 * deduplication").
 * File contents are written by a worker thread (`restore_writer.ts`) while this one opens the
 * next frames.
 *
 * @module
 */

import fs from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { blobId } from "../crypto/mac.ts";
import { release } from "../crypto/bytes.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { isDamage, type Repository } from "../repository/repository.ts";
import type { BlobEntry } from "../repository/index.ts";
import type { TreeNode } from "../repository/tree.ts";
import {
  chooseCopies,
  type PlannedEntry,
  type PlannedFrame,
  type PlannedPack,
  plannedPacks,
  type RestorePlan,
} from "./restore_plan.ts";
import { seedPicking } from "./check_sample.ts";
import { applyMetadata } from "./restore_fs.ts";
import { RestoreWriter } from "./restore_writer.ts";

/** Frames closer than this are read in one request. */
const COALESCE_GAP = 1 << 20;
/** The most bytes one ranged read asks for. */
const MAX_READ = 4 << 20;

export interface RestoreOptions {
  target: string;
  onProgress?: (files: number, bytes: number) => void;
  /**
   * A pack that could not be read, whose blobs were read from other copies instead; extended
   * attributes that could not be set (one message for all).
   */
  onWarning?: (message: string) => void;
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
  const asRoot = Deno.uid() === 0;
  const occupied = preflight(target, plan, abs);

  // Where a file's bytes are written: straight to its path when nothing is there, else to a
  // temporary name swapped in (rename) once the file is complete, so an existing file is
  // replaced only by a finished one. Until then it is "open"; if the restore fails, open files
  // are removed, so no half-written file is left looking complete.
  const open = new Map<string, OpenFile>();
  const start = (path: string, node: TreeNode, blobs: number): OpenFile => {
    const taken = occupied.has(path);
    const file: OpenFile = {
      path,
      writePath: taken ? `${path}.permafrost-${crypto.randomUUID().slice(0, 8)}` : path,
      node,
      left: blobs,
    };
    open.set(file.writePath, file);
    return file;
  };
  const finish = (file: OpenFile) => {
    if (file.writePath !== file.path) fs.renameSync(file.writePath, file.path);
    open.delete(file.writePath);
  };
  // Contents: written by the worker, which reports each file it has finished.
  const writer = new RestoreWriter(asRoot, (writePath) => open.delete(writePath));

  try {
    // 1. Directories, and multi-chunk files pre-sized: the skeleton writes land in. A one-chunk
    //    file (most files) is created, written, stamped and closed in one go in 2.
    const targets = new Map<string, Target[]>();
    const later: PlannedEntry[] = []; // files whose metadata is applied after all writes
    for (const e of plan.entries) {
      const path = abs(e.rel);
      if (e.node.type === "dir") {
        if (!occupied.get(path)) makeDir(path, occupied.has(path));
      } else if (e.node.type === "file" && e.linkTo === undefined) {
        const content = e.node.content ?? [];
        const file = start(path, e.node, content.length);
        if (content.length === 1) {
          addTarget(targets, content[0], { file, offset: 0, whole: true });
          continue;
        }
        const fd = fs.openSync(file.writePath, "wx", 0o600);
        if (e.node.size) fs.ftruncateSync(fd, e.node.size);
        fs.closeSync(fd);
        later.push(e);
        if (content.length === 0) finish(file);
        let offset = 0;
        for (const id of content) {
          addTarget(targets, id, { file, offset });
          offset += repo.index.get(id)!.length;
        }
      }
    }

    // 2. Contents, pack by pack, one ranged read per run of nearby frames. A pack that is
    //    missing or damaged gives up only the blobs not yet written: they are read from other
    //    copies the index knows (docs/security.md "Poison deduplication"), if each has one.
    let written = 0;
    let readBytes = 0;
    const delivered = new Set<string>();
    /** Blobs whose entry pointed at other bytes, in the pack being read. */
    let mismatched: BlobEntry[] = [];
    const restorePack = async (pack: PlannedPack) => {
      const key = await repo.dataKey(pack.pack, pack.metadata);
      for (const run of frameRuns(pack)) {
        const first = run[0].frameOffset;
        const end = run[run.length - 1].frameOffset + run[run.length - 1].frameLength;
        const bytes = await repo.readPack(pack.pack, pack.metadata, {
          offset: first,
          length: end - first,
        });
        readBytes += bytes.length;
        for (const frame of run) {
          const at = frame.frameOffset - first;
          const plain = await repo.openFrame(
            key,
            bytes.subarray(at, at + frame.frameLength),
            frame.frameOffset,
            pack.pack,
          );
          writer.frame(plain); // the writer owns the plaintext from here
          for (const blob of frame.blobs) {
            const data = plain.subarray(blob.offsetInFrame, blob.offsetInFrame + blob.length);
            if (data.length !== blob.length || blobId(repo.keys.macKey, data) !== blob.id) {
              // This entry is wrong (the frame itself verified): its blob is read elsewhere,
              // the frame's other blobs from here.
              mismatched.push(blob);
              continue;
            }
            for (const t of targets.get(blob.id) ?? []) {
              const { file } = t;
              const renamed = file.writePath !== file.path ? file.path : undefined;
              const last = --file.left === 0;
              if (t.whole) writer.whole(file.writePath, data, file.node, renamed);
              else {
                writer.range(file.writePath, t.offset, data, last && renamed === undefined);
                if (last && renamed !== undefined) writer.rename(file.writePath, renamed);
              }
              written += data.length;
            }
            delivered.add(blob.id);
          }
          await writer.room();
        }
        release(bytes);
        options.onProgress?.(0, written);
      }
    };
    // A copy is ruled out with its pack when the pack is missing, or alone when its frame does
    // not verify: a pack that is damaged in one frame still serves the others.
    const missing = new Set<string>();
    const bad = new Set<string>();
    const usable = (c: BlobEntry) =>
      !missing.has(c.pack) && !bad.has(frameKey(c.pack, c)) && !bad.has(entryKey(c));
    const queue = [...plan.packs];
    /** The snapshot path of a file that needs blob `id`, for messages. */
    const fileOf = (id: string) => {
      const file = targets.get(id)?.[0]?.file;
      if (file === undefined) return undefined;
      const base = plan.path === "/" ? "/" : posix.dirname(plan.path);
      return posix.join(base, relative(target, file.path).split(sep).join("/"));
    };
    /** Queues other copies of `due`, with a warning; false when some blob has none. */
    const elsewhere = (due: BlobEntry[], message: string) => {
      const packs = otherCopies(repo, due, usable);
      if (packs === undefined) return false;
      options.onWarning?.(`${message}; ${due.length} blobs are read from other copies`);
      queue.push(...packs);
      return true;
    };
    for (let i = 0; i < queue.length; i++) {
      const pack = queue[i];
      mismatched = [];
      let failure: unknown;
      try {
        await restorePack(pack);
      } catch (err) {
        if (!(err instanceof ObjectNotFound) && !isDamage(err)) throw err;
        failure = err;
      }
      if (mismatched.length > 0) {
        for (const b of mismatched) bad.add(entryKey(b));
        const message = `pack "${pack.pack}" does not hold what the index says: ` +
          `${mismatched.length} blobs (e.g. "${mismatched[0].id}") are not where an index entry ` +
          "puts them (the entry is wrong, or forged)";
        if (!elsewhere(mismatched, message)) {
          throw noOtherCopy(repo, pack.pack, new IntegrityError(message), mismatched, fileOf);
        }
      }
      if (failure === undefined) continue;
      const handled = new Set(mismatched.map((b) => b.id));
      const frames = pack.frames
        .map((f) => ({
          ...f,
          blobs: f.blobs.filter((b) => !delivered.has(b.id) && !handled.has(b.id)),
        }))
        .filter((f) => f.blobs.length > 0);
      if (frames.length === 0) continue;
      const gone = failure instanceof ObjectNotFound;
      if (!gone && frames.length > 1) {
        // Which frame is damaged is not known (one read spans several): each on its own.
        queue.push(...frames.map((f) => ({ ...pack, frames: [f] })));
        continue;
      }
      if (gone) missing.add(pack.pack);
      else bad.add(frameKey(pack.pack, frames[0]));
      const due = frames.flatMap((f) => f.blobs);
      if (!elsewhere(due, (failure as Error).message)) {
        throw noOtherCopy(repo, pack.pack, failure as Error, due, fileOf);
      }
    }
    await writer.drain();

    // 3. Links, then metadata (directories last, deepest first, so their mtimes stick).
    const unset = [...writer.warnings]; // extended attributes that could not be set
    for (const e of plan.entries) {
      const path = abs(e.rel);
      if (e.node.type === "symlink") {
        if (occupied.has(path)) clearFile(path);
        fs.symlinkSync(e.node.target ?? "", path);
        unset.push(...applyMetadata(path, e.node, asRoot));
      } else if (e.linkTo !== undefined) {
        if (occupied.has(path)) clearFile(path);
        fs.linkSync(abs(e.linkTo), path);
      }
    }
    for (const e of later) unset.push(...applyMetadata(abs(e.rel), e.node, asRoot));
    options.onProgress?.(plan.files, written);
    const dirs = plan.entries.filter((e) => e.node.type === "dir").sort((a, b) =>
      b.rel.length - a.rel.length
    );
    for (const e of dirs) unset.push(...applyMetadata(abs(e.rel), e.node, asRoot));
    if (unset.length > 0) {
      options.onWarning?.(
        `${unset.length} extended attributes could not be set (${unset.slice(0, 3).join("; ")}${
          unset.length > 3 ? "; …" : ""
        }); the files are restored without them`,
      );
    }
    return {
      target,
      files: plan.files,
      dirs: plan.dirs,
      bytes: plan.bytes,
      packs: plan.packs.length,
      readBytes,
    };
  } catch (err) {
    // Send nothing more; wait for the batches the worker has, then remove unfinished files.
    await writer.stop();
    for (const file of open.values()) fs.rmSync(file.writePath, { force: true });
    if (err instanceof Error && open.size > 0) {
      err.message += ` (restore stopped: ${open.size} files were not restored, and nothing ` +
        `half-written was left in their place)`;
    }
    throw err;
  } finally {
    writer.close();
  }
}

/** A file being written: its final path, where its bytes go now, and how many blobs are due. */
interface OpenFile {
  path: string;
  writePath: string;
  node: TreeNode;
  left: number;
}

/**
 * Checks the target before anything is written. Returns every planned path that already exists
 * (`true` for a directory), so the restore looks at the target once: only inside existing
 * directories can something be in the way. A directory where the snapshot has a file or
 * symlink, or a file where it has a directory, stops the restore here: Permafrost never deletes
 * a directory, nor a file to make room for a directory.
 */
function preflight(
  target: string,
  plan: RestorePlan,
  abs: (rel: string) => string,
): Map<string, boolean> {
  const occupied = new Map<string, boolean>([[target, true]]);
  const conflicts: string[] = [];
  for (const e of plan.entries) {
    const path = abs(e.rel);
    if (!occupied.get(dirname(path))) continue; // below a directory that is not there yet
    const st = lstatOrNull(path);
    if (st === null) continue;
    occupied.set(path, st.isDirectory());
    if (e.node.type === "dir" ? !st.isDirectory() && !st.isSymbolicLink() : st.isDirectory()) {
      conflicts.push(path);
    }
  }
  if (conflicts.length > 0) {
    const shown = conflicts.slice(0, 5).map((p) => `"${p}"`).join(", ");
    throw new Deno.errors.AlreadyExists(
      `the target has ${conflicts.length} entries of another kind in the way (a directory where ` +
        `the snapshot has a file, or the reverse): ${shown}${conflicts.length > 5 ? ", …" : ""}; ` +
        `move them away or restore into an empty folder. Nothing was written.`,
    );
  }
  return occupied;
}

/** Where one blob goes: a range of a pre-sized file, or (`whole`) a one-chunk file entire. */
interface Target {
  file: OpenFile;
  offset: number;
  whole?: boolean;
}

function addTarget(targets: Map<string, Target[]>, id: string, t: Target): void {
  const list = targets.get(id);
  if (list) list.push(t);
  else targets.set(id, [t]);
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

/**
 * Makes a directory where there is none. When something was there (`occupied`) it can only be a
 * symlink (`preflight` refused anything else), which is removed, never followed.
 */
function makeDir(path: string, occupied: boolean): void {
  if (occupied) fs.unlinkSync(path);
  fs.mkdirSync(path, { mode: 0o700 });
}

/** Removes a file or symlink so a symlink or hard link can be made there (never a directory). */
function clearFile(path: string): void {
  const st = lstatOrNull(path);
  if (st && !st.isDirectory()) fs.unlinkSync(path);
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Packs holding another usable copy of each of `due`; undefined when some blob has none.
 */
function otherCopies(
  repo: Repository,
  due: { id: string }[],
  usable: (c: BlobEntry) => boolean,
): PlannedPack[] | undefined {
  const copiesOf = (id: string) => repo.index.copies(id).filter(usable);
  if (due.some((b) => copiesOf(b.id).length === 0)) return undefined;
  return plannedPacks(repo.index, chooseCopies(copiesOf, due)).packs;
}

/**
 * The error that stops a restore: blobs of `pack` that no other copy the index knows can give.
 * `cause` says what is wrong with the pack; added: a file that needs them, and what to run to
 * learn more: `check` names the snapshots a missing pack breaks; a check that reads just this
 * pack (`check_sample.ts` `seedPicking`) names its damage and any index segment claiming a blob
 * it does not hold (docs/security.md "Poison deduplication").
 */
function noOtherCopy(
  repo: Repository,
  pack: string,
  cause: Error,
  due: { id: string }[],
  fileOf: (id: string) => string | undefined,
): Error {
  const files = [...new Set(due.map((b) => fileOf(b.id)).filter((f) => f !== undefined))];
  const needed = files.length === 0
    ? ""
    : ` of "${files[0]}"${files.length > 1 ? ` and ${files.length - 1} other files` : ""}`;
  let todo: string;
  if (cause instanceof ObjectNotFound) {
    todo = "run `permafrost check` to list the snapshots that need it";
  } else {
    const seed = seedPicking(pack, [...repo.index.packs()].map((p) => p.id));
    todo = seed === undefined
      ? "run `permafrost check --read-data` to find what is wrong with it"
      : `run \`permafrost check --read-data-subset 1@${seed}\` to read just this pack and ` +
        "find what is wrong with it (a damaged frame or header, or an index segment that " +
        "claims what it does not hold)";
  }
  if (!cause.message.includes(pack)) cause.message = `pack "${pack}": ${cause.message}`;
  cause.message += `; ${due.length} blobs${needed} have no other copy the index knows, so ` +
    `they cannot be restored: ${todo}`;
  return cause;
}

function frameKey(pack: string, frame: { frameOffset: number }): string {
  return `${pack}@${frame.frameOffset}`;
}

/** One index entry: a blob's id at its place in a pack. */
function entryKey(b: BlobEntry): string {
  return `${b.pack}@${b.frameOffset}+${b.offsetInFrame}:${b.id}`;
}
