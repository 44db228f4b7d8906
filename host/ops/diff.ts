/**
 * `diff SNAP PATH`: what differs between a folder on disk and the same folder in a snapshot,
 * from metadata alone (type, size, mode, mtime, symlink target), or with `content` by
 * recomputing the keyed blob ids of local files and comparing them with the snapshot's.
 * Reads trees (hot metadata) only, never a data pack.
 *
 * Content ids depend on how the snapshot's engine cut each file, which only the engine knows:
 * its `split(paths)` method (docs/plugins.md §5.3), run in a sandbox that may read `PATH` and
 * nothing else, gives each file's chunk lengths; the host reads the file and computes the keyed
 * ids of those chunks (docs/format.md §3.1), as a backup does. When the snapshot's engine is not
 * installed, or serves no `split`, contents are not compared and a note says so. A file whose
 * contents cannot be read (gone, unreadable, or no longer a regular file: a FIFO put in its place
 * is never read, so never waited on) is one change of its own, `unreadable`, with the reason, and
 * the diff goes on.
 *
 * @module
 */

import fs from "node:fs";
import { createHash, createHmac } from "node:crypto";
import { resolve } from "node:path";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { MAC_KEY_LENGTH } from "../crypto/mac.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import type { Repository } from "../repository/repository.ts";
import type { SnapshotManifest } from "../repository/snapshot.ts";
import { compareNames, type TreeNode } from "../repository/tree.ts";
import { readManifest } from "../plugin/manifest.ts";
import { builtinNames, builtinPlugin } from "../plugin/registry.ts";
import { type PluginHandle, startPlugin } from "../plugin/sandbox.ts";
import { engineConfig } from "./engine_config.ts";
import { locate } from "./snapshot_path.ts";

/** `unreadable`: a file whose contents could not be compared (`reason` says why). */
export type ChangeKind = "added" | "removed" | "modified" | "unreadable";

export interface Change {
  /** The path on disk. */
  path: string;
  change: ChangeKind;
  /** For `modified`: which properties differ (`type`, `size`, `mode`, `mtime`, `target`, `content`). */
  what?: string[];
  /** For `unreadable`: why the contents could not be read. */
  reason?: string;
}

export interface DiffOptions {
  /** Compare the contents of files whose metadata agree, by their keyed blob ids. */
  content?: boolean;
  /** Told when contents cannot be compared (the snapshot's engine is not installed). */
  onNote?: (note: string) => void;
}

/** Files whose contents are compared in one `split` call. */
const SPLIT_BATCH = 256;

/** Compares `path` on disk with the snapshot. */
export async function diff(
  repo: Repository,
  manifest: SnapshotManifest,
  path: string,
  options: DiffOptions = {},
): Promise<Change[]> {
  requirePrivateKey(repo.keys, "the snapshot's file list");
  await repo.loadIndex();
  const abs = resolve(path);
  const source = manifest.paths.find((s) => abs === s || abs.startsWith(s === "/" ? "/" : s + "/"));
  if (source === undefined) {
    throw new ObjectNotFound(
      `"${abs}" is not inside any path of this snapshot (${
        manifest.paths.map((p) => `"${p}"`).join(", ")
      })`,
    );
  }
  const name = source === "/" ? "root" : source.split("/").pop()!;
  const snapPath = "/" + name + abs.slice(source.length);
  let node: TreeNode | undefined;
  try {
    node = (await locate(repo, manifest.root, snapPath)).node;
  } catch (err) {
    if (!(err instanceof ObjectNotFound)) throw err;
    // not in the snapshot: on disk it is an addition (or it is on neither side)
    if (lstat(abs) === null) throw err;
  }
  const changes: Change[] = [];
  const differ = new Differ(repo, changes, options);
  await differ.entry(abs, node, lstat(abs));
  if (differ.toCompare.length === 0) return changes;
  await compareContents(repo, manifest.engine, abs, differ.toCompare, options);
  return changes.filter((c) => c.change !== "modified" || c.what!.length > 0);
}

/**
 * What comparing one file's contents gave: its keyed ids as the engine cuts it; `undefined`
 * when the file changed while it was read (the lengths no longer cover it); `Unreadable` when it
 * could not be read at all.
 */
export type ContentIds = string[] | undefined | Unreadable;

/** A file whose contents could not be read, and why. */
export class Unreadable {
  constructor(readonly reason: string) {}
}

/**
 * The {@link ContentIds} of each of `paths` (absolute files), cut by `plugin` (the snapshot's
 * engine `engine`, started by `splitter`) in batches. A batch whose `split` fails is asked again
 * one file at a time, so one file that cannot be read costs only its own answer; a malformed
 * answer from the engine is its bug, and throws.
 */
export async function contentIds(
  macKey: Uint8Array,
  plugin: PluginHandle,
  engine: string,
  paths: string[],
): Promise<ContentIds[]> {
  const out: ContentIds[] = [];
  for (let i = 0; i < paths.length; i += SPLIT_BATCH) {
    const batch = paths.slice(i, i + SPLIT_BATCH);
    let lengths: (unknown | Unreadable)[];
    try {
      lengths = await splitBatch(plugin, engine, batch);
    } catch (err) {
      if (batch.length === 1) lengths = [new Unreadable(errorText(err))];
      else {
        lengths = [];
        for (const path of batch) {
          try {
            lengths.push(...await splitBatch(plugin, engine, [path]));
          } catch (one) {
            lengths.push(new Unreadable(errorText(one)));
          }
        }
      }
    }
    batch.forEach((path, j) => {
      const l = lengths[j];
      if (l instanceof Unreadable) return void out.push(l);
      checkLengths(path, l, engine);
      try {
        out.push(keyedIds(macKey, path, l, engine));
      } catch (err) {
        out.push(new Unreadable(errorText(err)));
      }
    });
  }
  return out;
}

/** The engine's `split` of `paths`: one answer per path. */
async function splitBatch(
  plugin: PluginHandle,
  engine: string,
  paths: string[],
): Promise<unknown[]> {
  const lengths = await plugin.call<unknown[]>("split", paths);
  if (!Array.isArray(lengths) || lengths.length !== paths.length) {
    throw new TypeError(`engine "${engine}" answered split() with no list of ${paths.length}`);
  }
  return lengths;
}

/** A file whose metadata agree with its node: its contents are compared after the walk. */
interface ContentCheck {
  path: string;
  content: string[];
  /** Its entry among the changes; `content` is added to `what` when the contents differ. */
  change: Change;
}

class Differ {
  /** Files to compare by content, with their changes already in `out` (in walk order). */
  readonly toCompare: ContentCheck[] = [];

  constructor(private repo: Repository, private out: Change[], private options: DiffOptions) {}

  async entry(path: string, node: TreeNode | undefined, st: fs.Stats | null): Promise<void> {
    if (!node && !st) return;
    // sockets, fifos and devices are never backed up: not a difference
    if (!node && st && !st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) return;
    if (!node) return void this.out.push({ path, change: "added" });
    if (!st) return void this.out.push({ path, change: "removed" });
    const type = st.isDirectory()
      ? "dir"
      : st.isSymbolicLink()
      ? "symlink"
      : st.isFile()
      ? "file"
      : "other";
    if (type !== node.type) return void this.out.push({ path, change: "modified", what: ["type"] });
    const what: string[] = [];
    if ((st.mode & 0o7777) !== node.mode && type !== "symlink") what.push("mode");
    if (type !== "dir" && BigInt(Math.trunc(st.mtimeMs)) !== BigInt(node.mtime) / 1_000_000n) {
      what.push("mtime");
    }
    if (type === "file") {
      if (st.size !== (node.size ?? 0)) what.push("size");
    }
    if (type === "symlink" && readlink(path) !== node.target) what.push("target");
    if (type === "file" && this.options.content && !what.includes("size") && node.mirror) {
      // A mirrored file (`sync`) is known by its SHA-256: the host compares, no engine cuts it.
      const sha256 = fileSha256(path);
      if (typeof sha256 !== "string") {
        return void this.out.push({ path, change: "unreadable", reason: sha256.reason });
      }
      if (sha256 !== node.mirror.sha256) what.push("content");
      if (what.length > 0) this.out.push({ path, change: "modified", what });
    } else if (type === "file" && this.options.content && !what.includes("size")) {
      // Kept in order now; left out at the end if the contents agree and nothing else differs.
      const change: Change = { path, change: "modified", what };
      this.out.push(change);
      this.toCompare.push({ path, content: node.content ?? [], change });
    } else if (what.length > 0) this.out.push({ path, change: "modified", what });
    if (type === "dir" && node.subtree) await this.#dir(path, node.subtree);
  }

  async #dir(path: string, subtree: string): Promise<void> {
    const tree = await this.repo.tree(subtree);
    const nodes = new Map(tree.nodes.map((n) => [n.name, n]));
    let names: string[] = [];
    try {
      names = fs.readdirSync(path);
    } catch {
      // unreadable on disk: every snapshot entry below counts as removed
    }
    const all = [...new Set([...names, ...nodes.keys()])].sort(compareNames);
    for (const name of all) {
      const child = `${path}/${name}`;
      await this.entry(child, nodes.get(name), names.includes(name) ? lstat(child) : null);
    }
  }
}

/** The SHA-256 of the file at `path` (hex), read in pieces; why not when it cannot be read. */
function fileSha256(path: string): string | { reason: string } {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return { reason: `cannot open: ${(err as Error).message}` };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return { reason: "is no longer a regular file" };
    const hash = createHash("sha256");
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
      hash.update(buf.subarray(0, n));
    }
    return hash.digest("hex");
  } catch (err) {
    return { reason: `cannot read: ${(err as Error).message}` };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Compares the contents of `files` (under `root`, the folder being diffed) with their nodes,
 * cutting each as the snapshot's engine `engine` would (its `split`), and adds "content" to the
 * change of each that differs. Without that engine, or its `split`, tells `options.onNote`.
 */
async function compareContents(
  repo: Repository,
  engine: string,
  root: string,
  files: ContentCheck[],
  options: DiffOptions,
): Promise<void> {
  const plugin = await splitter(repo, engine, root, options);
  if (plugin === undefined) return;
  try {
    const all = await contentIds(repo.keys.macKey, plugin, engine, files.map((f) => f.path));
    files.forEach((f, j) => {
      const ids = all[j];
      if (ids instanceof Unreadable) {
        // Its metadata differences, if any, are beside the point: it could not be compared.
        f.change.change = "unreadable";
        f.change.reason = ids.reason;
        delete f.change.what;
        return;
      }
      const same = ids !== undefined && ids.length === f.content.length &&
        ids.every((id, k) => id === f.content[k]);
      if (!same) f.change.what!.push("content");
    });
  } finally {
    await plugin.close();
  }
}

/**
 * The snapshot's engine, started to split files under `root` (which it may read, and nothing
 * else); undefined, with a note, when it is not installed or serves no `split`.
 */
export async function splitter(
  repo: Repository,
  engine: string,
  root: string,
  options: DiffOptions,
): Promise<PluginHandle | undefined> {
  const metadataOnly = "compared metadata only (type, size, mode, mtime, target), not contents";
  if (!builtinNames("engine").includes(engine)) {
    options.onNote?.(`the snapshot's engine "${engine}" is not installed: ${metadataOnly}`);
    return undefined;
  }
  const manifest = await readManifest(builtinPlugin("engine", engine));
  if (!manifest.methods.includes("split")) {
    options.onNote?.(`the snapshot's engine "${engine}" cannot split files: ${metadataOnly}`);
    return undefined;
  }
  return await startPlugin({
    kind: "engine",
    name: engine,
    vars: { $sources: [root] },
    config: engineConfig(repo),
  });
}

/** Throws unless `lengths` is the engine's list of chunk lengths for `path`. */
function checkLengths(path: string, lengths: unknown, engine: string): asserts lengths is number[] {
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new TypeError(`engine "${engine}" split "${path}" into no list of chunk lengths`);
  }
}

/**
 * The keyed ids (docs/format.md §3.1: HMAC-SHA-256 under the MAC key) of the consecutive pieces
 * of the file at `path` that `lengths` gives, read as they stream by; undefined when the lengths
 * do not cover the file exactly (it changed since it was split). Throws what opening or reading
 * the file throws, and a `TypeError` when it is no longer a regular file (opened without
 * blocking, so a FIFO put in its place is not waited on).
 */
export function keyedIds(
  macKey: Uint8Array,
  path: string,
  lengths: unknown,
  engine: string,
): string[] | undefined {
  checkLengths(path, lengths, engine);
  if (macKey.length !== MAC_KEY_LENGTH) throw new RangeError("MAC key of the wrong length");
  const buf = new Uint8Array(4 << 20);
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) {
      throw new TypeError(`"${path}" is no longer a regular file; its contents were not read`);
    }
    const ids: string[] = [];
    for (const length of lengths as number[]) {
      const mac = createHmac("sha256", macKey);
      for (let left = length; left > 0;) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) return undefined; // shorter than the lengths
        mac.update(buf.subarray(0, n));
        left -= n;
      }
      ids.push(mac.digest("hex"));
    }
    return fs.readSync(fd, buf, 0, 1, null) === 0 ? ids : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function lstat(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

/** The target of the symlink at `path`; undefined when it is gone or no longer a symlink. */
function readlink(path: string): string | undefined {
  try {
    return fs.readlinkSync(path);
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
