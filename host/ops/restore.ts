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
 * @module
 */

import fs from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Repository } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";
import type { PlannedEntry, RestorePlan } from "./restore_plan.ts";
import { applyMetadata } from "./restore_fs.ts";
import { RestoreWriter } from "./restore_writer.ts";
import {
  type ContentsState,
  type OpenFile,
  type Target,
  writeContents,
} from "./restore_contents.ts";

export { frameRuns } from "./restore_contents.ts";

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

/**
 * What the steps of one restore share. Where a file's bytes are written: straight to its path
 * when nothing is there, else to a temporary name swapped in (rename) once the file is complete,
 * so an existing file is replaced only by a finished one. Until then it is "open"; if the
 * restore fails, open files are removed, so no half-written file is left looking complete.
 */
interface RestoreState extends ContentsState {
  options: RestoreOptions;
  /** The absolute path of a plan entry's `rel`. */
  abs: (rel: string) => string;
  /** Running as root: owners are restored too. */
  asRoot: boolean;
  /** Every planned path that already exists (`true` for a directory), from `preflight`. */
  occupied: Map<string, boolean>;
  /** Files not yet complete, by the path their bytes are written to. */
  open: Map<string, OpenFile>;
  /** Multi-chunk and empty files, whose metadata is applied after all writes. */
  later: PlannedEntry[];
}

/**
 * Restores what `plan` names under `options.target` (created if missing), in three steps:
 * the skeleton ({@link layOut}), the contents (`writeContents`), then links and metadata
 * ({@link linkAndStamp}). On failure, files not finished are removed ({@link abandon}).
 */
export async function executeRestore(
  repo: Repository,
  plan: RestorePlan,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const s = startRestore(repo, plan, options);
  try {
    layOut(s);
    await writeContents(s);
    await s.writer.drain();
    linkAndStamp(s);
    return {
      target: s.target,
      files: plan.files,
      dirs: plan.dirs,
      bytes: plan.bytes,
      packs: plan.packs.length,
      readBytes: s.readBytes,
    };
  } catch (err) {
    await abandon(s, err);
    throw err;
  } finally {
    s.writer.close();
  }
}

/**
 * Checks the target (writable, nothing of another kind in the way) and starts the writer
 * worker, which reports each file it has finished (no longer open). Writes nothing but a probe.
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
  const open = new Map<string, OpenFile>();
  const writer = new RestoreWriter(asRoot, (writePath) => open.delete(writePath));
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
    later: [],
    written: 0,
    readBytes: 0,
  };
}

/**
 * Step 1: directories, and multi-chunk files pre-sized: the skeleton writes land in. Records
 * where each blob goes (`targets`). A one-chunk file (most files) is only recorded: step 2
 * creates, writes, stamps and closes it in one go.
 */
function layOut(s: RestoreState): void {
  for (const e of s.plan.entries) {
    const path = s.abs(e.rel);
    if (e.node.type === "dir") {
      if (!s.occupied.get(path)) makeDir(path, s.occupied.has(path));
    } else if (e.node.type === "file" && e.linkTo === undefined) {
      const content = e.node.content ?? [];
      const file = openFile(s, path, e.node, content.length);
      if (content.length === 1) {
        addTarget(s.targets, content[0], { file, offset: 0, whole: true });
        continue;
      }
      const fd = fs.openSync(file.writePath, "wx", 0o600);
      if (e.node.size) fs.ftruncateSync(fd, e.node.size);
      fs.closeSync(fd);
      s.later.push(e);
      if (content.length === 0) finishFile(s, file);
      let offset = 0;
      for (const id of content) {
        addTarget(s.targets, id, { file, offset });
        offset += s.repo.index.get(id)!.length;
      }
    }
  }
}

/** Opens a file of `blobs` blobs at `path`: under a temporary name if something is there. */
function openFile(s: RestoreState, path: string, node: TreeNode, blobs: number): OpenFile {
  const taken = s.occupied.has(path);
  const file: OpenFile = {
    path,
    writePath: taken ? `${path}.permafrost-${crypto.randomUUID().slice(0, 8)}` : path,
    node,
    left: blobs,
  };
  s.open.set(file.writePath, file);
  return file;
}

/** Marks `file` complete, renaming it into place if it was written under a temporary name. */
function finishFile(s: RestoreState, file: OpenFile): void {
  if (file.writePath !== file.path) fs.renameSync(file.writePath, file.path);
  s.open.delete(file.writePath);
}

/**
 * Step 3, once every content write is done: symlinks and hard links, then metadata (files laid
 * out in step 1, then directories last, deepest first, so their mtimes stick). Extended
 * attributes that could not be set are one warning.
 */
function linkAndStamp(s: RestoreState): void {
  const { plan, abs, asRoot, options } = s;
  const unset = [...s.writer.warnings]; // extended attributes that could not be set
  for (const e of plan.entries) {
    const path = abs(e.rel);
    if (e.node.type === "symlink") {
      if (s.occupied.has(path)) clearFile(path);
      fs.symlinkSync(e.node.target ?? "", path);
      unset.push(...applyMetadata(path, e.node, asRoot));
    } else if (e.linkTo !== undefined) {
      if (s.occupied.has(path)) clearFile(path);
      fs.linkSync(abs(e.linkTo), path);
    }
  }
  for (const e of s.later) unset.push(...applyMetadata(abs(e.rel), e.node, asRoot));
  options.onProgress?.(plan.files, s.written);
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
 * After a failure: sends nothing more, waits for the batches the worker has, then removes the
 * files not finished and says so in `err`'s message.
 */
async function abandon(s: RestoreState, err: unknown): Promise<void> {
  await s.writer.stop();
  for (const file of s.open.values()) fs.rmSync(file.writePath, { force: true });
  if (err instanceof Error && s.open.size > 0) {
    err.message += ` (restore stopped: ${s.open.size} files were not restored, and nothing ` +
      `half-written was left in their place)`;
  }
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
