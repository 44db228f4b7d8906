/**
 * `diff SNAP PATH`: what differs between a folder on disk and the same folder in a snapshot,
 * from metadata alone (type, size, mode, mtime, symlink target), or with `content` by
 * recomputing the keyed chunk ids of local files and comparing them with the snapshot's.
 * Reads trees (hot metadata) only, never a data pack.
 *
 * @module
 */

import fs from "node:fs";
import { resolve } from "node:path";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { Chunker } from "../../plugins/engine/dedup/fastcdc.ts";
import { compareNames } from "../../plugins/engine/dedup/walker.ts";
import { gearTable } from "../crypto/gear.ts";
import { blobId } from "../crypto/mac.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import type { Repository } from "../repository/repository.ts";
import type { SnapshotManifest } from "../repository/snapshot.ts";
import type { TreeNode } from "../repository/tree.ts";
import { locate } from "./snapshot_path.ts";

export type ChangeKind = "added" | "removed" | "modified";

export interface Change {
  /** The path on disk. */
  path: string;
  change: ChangeKind;
  /** For `modified`: which properties differ (`type`, `size`, `mode`, `mtime`, `target`, `content`). */
  what?: string[];
}

export interface DiffOptions {
  content?: boolean;
}

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
  return changes;
}

class Differ {
  #chunker?: { gear: Uint32Array };

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
      else if (this.options.content && !this.#sameContent(path, node.content ?? [])) {
        what.push("content");
      }
    }
    if (type === "symlink" && fs.readlinkSync(path) !== node.target) what.push("target");
    if (what.length > 0) this.out.push({ path, change: "modified", what });
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

  #sameContent(path: string, content: string[]): boolean {
    const gear = this.#chunker ??= { gear: gearTable(this.repo.keys.chunkerKey) };
    const chunker = new Chunker(gear.gear, this.repo.config.chunker);
    const ids: string[] = [];
    const fd = fs.openSync(path, "r");
    try {
      const buf = new Uint8Array(4 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        for (const c of chunker.push(buf.subarray(0, n))) {
          ids.push(blobId(this.repo.keys.macKey, c));
        }
      }
      for (const c of chunker.finish()) ids.push(blobId(this.repo.keys.macKey, c));
    } finally {
      fs.closeSync(fd);
    }
    return ids.length === content.length && ids.every((id, i) => id === content[i]);
  }
}

function lstat(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}
