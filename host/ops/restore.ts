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
 * next frames (`restore_contents.ts`).
 *
 * Whenever a restore stops (an error, SIGINT or SIGTERM, or `kill -9`, which nothing sees), a
 * file at its own name is complete, verified and stamped: each is written under a temporary
 * name beside it, `<name>.permafrost-partial-<8 hex digits>`, and renamed into place once it
 * is. A restore that fails or is interrupted removes its temporary files; one killed leaves
 * them, and the next restore into the same folder removes those of the files it restores. So a
 * rerun of the same restore finishes the job (it writes every file again).
 *
 * @module
 */

import fs from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { onInterrupt } from "../storage/orderly_close.ts";
import type { Repository } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";
import type { RestorePlan } from "./restore_plan.ts";
import { applyMetadata } from "./restore_fs.ts";
import { RestoreWriter } from "./restore_writer.ts";
import {
  type ContentsState,
  type OpenFile,
  type Target,
  writeContents,
} from "./restore_contents.ts";
import { type OnProgress, ProgressCounter } from "./progress.ts";
import { type MirroredFile, writeMirrored } from "./restore_mirror.ts";

export { frameRuns } from "./restore_contents.ts";

export interface RestoreOptions {
  target: string;
  /**
   * Progress (`progress.ts`): the plan's totals from the first event, then each file as it is
   * complete (written, stamped and in place), and the bytes written.
   */
  onProgress?: OnProgress;
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

/**
 * What the steps of one restore share. A file's bytes are written under a temporary name
 * ({@link partialName}), renamed into place (over an existing file too) once the file is
 * complete and stamped. Until then it is "open"; if the restore fails or is interrupted, open
 * files are removed, and a kill leaves them under names that say they are unfinished.
 */
interface RestoreState extends ContentsState {
  options: RestoreOptions;
  progress: ProgressCounter;
  /** The absolute path of a plan entry's `rel`. */
  abs: (rel: string) => string;
  /** Running as root: owners are restored too. */
  asRoot: boolean;
  /** Every planned path that already exists (`true` for a directory), from `preflight`. */
  occupied: Map<string, boolean>;
  /** Files not yet complete, by the path their bytes are written to. */
  open: Map<string, OpenFile>;
  /** Extended attributes that could not be set on the files stamped here (empty files). */
  unset: string[];
  /** Files whose bytes are a mirror object (`restore_mirror.ts`), written after the packs'. */
  mirrored: OpenFile[];
}

/**
 * Restores what `plan` names under `options.target` (created if missing), in three steps:
 * the skeleton ({@link layOut}: directories, symlinks), the contents (`writeContents`), then
 * hard links and the directories' metadata ({@link linkAndStamp}). On failure, files not
 * finished are removed ({@link abandon}); on SIGINT or SIGTERM too, before the process exits
 * (`orderly_close.ts` `onInterrupt`).
 */
export async function executeRestore(
  repo: Repository,
  plan: RestorePlan,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const s = startRestore(repo, plan, options);
  // A signal exits once the storages are closed, which may be before the `catch` below runs:
  // it waits for the same clean-up instead, and the writer stops writing meanwhile.
  let abandoned: Promise<number> | undefined;
  const stop = (reason: unknown) => abandoned ??= abandon(s, reason);
  const unregister = onInterrupt(async (signal) => {
    await stop(new Deno.errors.Interrupted(`the restore was interrupted by ${signal}`));
  });
  try {
    layOut(s);
    await writeContents(s);
    await s.writer.drain();
    await writeMirroredFiles(s);
    linkAndStamp(s);
    s.progress.finish(plan.files, plan.bytes);
    return {
      target: s.target,
      files: plan.files,
      dirs: plan.dirs,
      bytes: plan.bytes,
      packs: plan.packs.length,
      readBytes: s.readBytes,
    };
  } catch (err) {
    const left = await stop(err);
    if (err instanceof Error && left > 0) {
      err.message += ` (restore stopped: ${left} files were not restored, and nothing ` +
        `half-written was left in their place${
          err instanceof Deno.errors.Interrupted ? "; run the same restore again to finish it" : ""
        })`;
    }
    throw err;
  } finally {
    unregister();
    s.writer.close();
  }
}

/**
 * Checks the target (writable, nothing of another kind in the way), removes the temporary files
 * a killed restore left there ({@link removeLeftovers}), and starts the writer worker, which
 * reports each file it has finished (no longer open). Writes nothing but a probe.
 */
function startRestore(
  repo: Repository,
  plan: RestorePlan,
  options: RestoreOptions,
): RestoreState {
  const target = resolve(options.target);
  prepareTarget(target);
  const abs = (rel: string) => join(target, rel);
  const asRoot = Deno.uid() === 0;
  const occupied = preflight(target, plan, abs);
  removeLeftovers(plan, abs, occupied);
  const open = new Map<string, OpenFile>();
  const progress = new ProgressCounter("restore", options.onProgress);
  progress.totals(plan.files, plan.bytes);
  const writer = new RestoreWriter(asRoot, (writePath) => {
    const file = open.get(writePath);
    open.delete(writePath);
    progress.add(1, 0, file?.path);
  }, { onWritten: (bytes) => progress.add(0, bytes) });
  return {
    repo,
    plan,
    options,
    target,
    abs,
    asRoot,
    occupied,
    open,
    writer,
    targets: new Map(),
    unset: [],
    mirrored: [],
    readBytes: 0,
    progress,
  };
}

/**
 * Step 1: directories, symlinks, and multi-chunk files pre-sized under their temporary names:
 * the skeleton writes land in. Records where each blob goes (`targets`). A one-chunk file (most
 * files) is only recorded: step 2 creates, writes, stamps, closes and renames it in one go. An
 * empty file is complete at once: stamped and renamed here. Symlinks are made here, not last:
 * a symlink is complete once made, and making one while the file system is still flushing the
 * contents written before it took 13 times as long (docs/bench.md "Restore: symlinks first").
 */
function layOut(s: RestoreState): void {
  for (const e of s.plan.entries) {
    const path = s.abs(e.rel);
    if (e.node.type === "dir") {
      if (!s.occupied.get(path)) makeDir(path, s.occupied.has(path));
    } else if (e.node.type === "symlink") {
      makeSymlink(s, path, e.node);
    } else if (e.node.type === "file" && e.linkTo === undefined) {
      if (e.node.mirror) {
        s.mirrored.push(openFile(s, path, e.node, 1));
        continue;
      }
      const content = e.node.content ?? [];
      const file = openFile(s, path, e.node, content.length);
      if (content.length === 1) {
        addTarget(s.targets, content[0], { file, offset: 0, whole: true });
        continue;
      }
      const fd = fs.openSync(file.writePath, "wx", 0o600);
      try {
        if (e.node.size) fs.ftruncateSync(fd, e.node.size);
        if (content.length === 0) {
          s.unset.push(...applyMetadata(file.writePath, e.node, s.asRoot, fd, path));
        }
      } finally {
        fs.closeSync(fd);
      }
      if (content.length === 0) finishFile(s, file);
      let offset = 0;
      for (const id of content) {
        addTarget(s.targets, id, { file, offset });
        offset += s.repo.index.get(id)!.length;
      }
    }
  }
}

/**
 * Step 2b: each mirrored file from its object, verified (`restore_mirror.ts`), stamped and
 * renamed into place.
 */
async function writeMirroredFiles(s: RestoreState): Promise<void> {
  for (const file of s.mirrored) {
    const fd = fs.openSync(file.writePath, "wx", 0o600);
    try {
      const mirrored = { writePath: file.writePath, shownAs: file.path, node: file.node };
      const bytes = await writeMirrored(
        s.repo.storage,
        mirrored as MirroredFile,
        fd,
        s.repo.keys,
      );
      s.readBytes += bytes;
      s.progress.add(0, bytes);
      s.unset.push(...applyMetadata(file.writePath, file.node, s.asRoot, fd, file.path));
    } finally {
      fs.closeSync(fd);
    }
    finishFile(s, file);
  }
}

/** Opens a file of `blobs` blobs at `path`, to be written under a temporary name. */
function openFile(s: RestoreState, path: string, node: TreeNode, blobs: number): OpenFile {
  const file: OpenFile = { path, writePath: partialName(path), node, left: blobs };
  s.open.set(file.writePath, file);
  return file;
}

/** What a temporary name ends with: this, then 8 random hex digits. */
const PARTIAL = ".permafrost-partial-";
/** A temporary name, and the name of the file it was for (empty when that was too long). */
const PARTIAL_NAME = /^(.*)\.permafrost-partial-[0-9a-f]{8}$/s;
/** The longest file name, in bytes, on the file systems a restore writes to. */
const NAME_MAX = 255;

/**
 * The temporary name `path` is written under until it is complete: beside it, its name and
 * {@link PARTIAL} and 8 random hex digits, so that a file left by a kill says what it is and
 * whose it is; only `PARTIAL` and the digits when that would be too long a name.
 */
function partialName(path: string): string {
  const suffix = `${PARTIAL}${crypto.randomUUID().slice(0, 8)}`;
  const name = basename(path);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most names need no encoding to be sure.
  const long = (name.length * 3 + suffix.length > NAME_MAX) &&
    new TextEncoder().encode(name + suffix).length > NAME_MAX;
  return long ? join(dirname(path), suffix) : path + suffix;
}

/**
 * Removes the temporary files a restore killed before it could clean up (`kill -9`, a second
 * Ctrl-C) left beside the files this plan restores: regular files named as {@link partialName}
 * names one of them (or with the short name), which the plan does not restore itself. Only
 * directories that exist can hold one: one listing each.
 */
function removeLeftovers(
  plan: RestorePlan,
  abs: (rel: string) => string,
  occupied: Map<string, boolean>,
): void {
  const planned = new Map<string, Set<string>>(); // existing directory -> names planned in it
  for (const e of plan.entries) {
    const path = abs(e.rel), dir = dirname(path);
    if (occupied.get(dir) !== true) continue;
    const names = planned.get(dir) ?? new Set();
    planned.set(dir, names.add(basename(path)));
  }
  for (const [dir, names] of planned) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const stem = PARTIAL_NAME.exec(entry.name)?.[1];
      if (stem === undefined || !entry.isFile() || names.has(entry.name)) continue;
      // Gone meanwhile is as good (another restore into this folder renamed it).
      if (stem === "" || names.has(stem)) fs.rmSync(join(dir, entry.name), { force: true });
    }
  }
}

/** Marks `file` complete, renaming it into place from its temporary name. */
function finishFile(s: RestoreState, file: OpenFile): void {
  if (file.writePath !== file.path) fs.renameSync(file.writePath, file.path);
  s.open.delete(file.writePath);
  s.progress.add(1, 0, file.path);
}

/**
 * Makes the symlink `node` at `path` (in place of a file or symlink there) and stamps it. Its
 * parent is a directory: one that was there, or made by `makeDir`, which never follows one.
 */
function makeSymlink(s: RestoreState, path: string, node: TreeNode): void {
  if (s.occupied.has(path)) clearFile(path);
  fs.symlinkSync(node.target ?? "", path);
  s.unset.push(...applyMetadata(path, node, s.asRoot));
}

/**
 * Step 3, once every content write is done: hard links, then the directories' metadata,
 * deepest first, so their mtimes stick (files were stamped as each was completed, symlinks as
 * each was made). Extended attributes that could not be set are one warning.
 */
function linkAndStamp(s: RestoreState): void {
  const { plan, abs, asRoot, options } = s;
  const unset = [...s.unset, ...s.writer.warnings]; // extended attributes that could not be set
  for (const e of plan.entries) {
    const path = abs(e.rel);
    if (e.linkTo !== undefined) {
      if (s.occupied.has(path)) clearFile(path);
      fs.linkSync(abs(e.linkTo), path);
      s.progress.add(1, 0, path);
    }
  }
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
}

/**
 * After a failure or on an interrupt (`reason`): sends nothing more, waits for the batches the
 * worker has, then removes the files not finished (their temporary names). Resolves how many.
 */
async function abandon(s: RestoreState, reason: unknown): Promise<number> {
  await s.writer.stop(reason);
  for (const file of s.open.values()) fs.rmSync(file.writePath, { force: true });
  return s.open.size;
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

function addTarget(targets: Map<string, Target[]>, id: string, t: Target): void {
  const list = targets.get(id);
  if (list) list.push(t);
  else targets.set(id, [t]);
}

function prepareTarget(target: string): void {
  try {
    fs.mkdirSync(target, { recursive: true });
    const probe = join(target, `.permafrost-write-test-${crypto.randomUUID()}`);
    fs.writeFileSync(probe, "");
    fs.unlinkSync(probe);
  } catch (err) {
    // mkdir's EEXIST (the target is a file) or ENOTDIR (a folder above it is), said plainly.
    const code = (err as { code?: string }).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw new Deno.errors.AlreadyExists(
        `target "${target}" is ${code === "EEXIST" ? "a file" : "inside a file"}, not a ` +
          "folder: give --target a folder, new or existing",
      );
    }
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
