/**
 * The restore plan: which entries to create, which blobs they need, and which packs (and
 * frames in them) hold those blobs. Built from trees alone; reads no data pack. `restore`
 * executes it; the cost model (later) prices it; `--dry-run` prints it.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { BlobEntry } from "../repository/index.ts";
import type { Repository } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";
import { locate, walkTree } from "./snapshot_path.ts";

/** One thing to create, at `rel` (relative to the restore target, `/`-separated). */
export interface PlannedEntry {
  rel: string;
  node: TreeNode;
  /** For the second and later names of a hard-linked file: the `rel` of the first. */
  linkTo?: string;
}

/** A frame to read, and which blobs in it are needed. */
export interface PlannedFrame {
  frameOffset: number;
  frameLength: number;
  blobs: BlobEntry[];
}

/** A pack to read from, with its needed frames in offset order. */
export interface PlannedPack {
  pack: string;
  metadata: boolean;
  /** Bytes of the whole pack (what a cold restore must thaw). */
  length: number;
  frames: PlannedFrame[];
}

export interface RestorePlan {
  snapshot: string;
  path: string;
  entries: PlannedEntry[];
  packs: PlannedPack[];
  /** Files, each name of a hard-linked file counted. */
  files: number;
  dirs: number;
  /** Bytes of file contents to write. */
  bytes: number;
  /** Bytes of the frames to read. */
  readBytes: number;
  /** Bytes of the packs involved, whole. */
  packBytes: number;
}

/** Plans restoring `path` (default: everything) of snapshot `snapshotId` with root `root`. */
export async function planRestore(
  repo: Repository,
  snapshotId: string,
  root: string,
  path = "/",
): Promise<RestorePlan> {
  await repo.loadIndex();
  const located = await locate(repo, root, path);
  const entries: PlannedEntry[] = [];
  const firstLink = new Map<string, string>();
  const add = (rel: string, node: TreeNode) => {
    if (node.type === "file" && node.links && node.links > 1 && node.inode && node.dev) {
      // Same inode and the same content: one file with two names. Same inode but different
      // content (the inode was reused, or the file changed between its names) is two files.
      const key = `${node.dev}:${node.inode}:${(node.content ?? []).join(",")}`;
      const first = firstLink.get(key);
      if (first !== undefined) {
        entries.push({ rel, node, linkTo: first });
        return;
      }
      firstLink.set(key, rel);
    }
    entries.push({ rel, node });
  };
  if (located.node) {
    add(located.node.name, located.node);
    if (located.node.type === "dir" && located.node.subtree) {
      await walkTree(repo, located.node.subtree, located.node.name, (p, n) => add(p, n));
    }
  } else {
    await walkTree(repo, root, "", (p, n) => add(p.replace(/^\//, ""), n));
  }

  const needed: { id: string; rel: string }[] = [];
  const seen = new Set<string>();
  let files = 0, dirs = 0, bytes = 0;
  for (const e of entries) {
    if (e.node.type === "dir") dirs++;
    if (e.node.type !== "file") continue;
    files++;
    if (e.linkTo !== undefined) continue;
    bytes += e.node.size ?? 0;
    for (const id of e.node.content ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      needed.push({ id, rel: e.rel });
    }
  }
  const byPack = new Map<string, Map<number, PlannedFrame>>();
  for (const blob of chooseCopies((id) => repo.index.copies(id), needed)) {
    let frames = byPack.get(blob.pack);
    if (!frames) byPack.set(blob.pack, frames = new Map());
    let frame = frames.get(blob.frameOffset);
    if (!frame) {
      frames.set(
        blob.frameOffset,
        frame = { frameOffset: blob.frameOffset, frameLength: blob.frameLength, blobs: [] },
      );
    }
    frame.blobs.push(blob);
  }
  const packs: PlannedPack[] = [];
  let readBytes = 0, packBytes = 0;
  for (const [pack, frames] of byPack) {
    const info = repo.index.pack(pack)!;
    const sorted = [...frames.values()].sort((a, b) => a.frameOffset - b.frameOffset);
    for (const f of sorted) readBytes += f.frameLength;
    packBytes += info.length;
    packs.push({ pack, metadata: info.metadata, length: info.length, frames: sorted });
  }
  return {
    snapshot: snapshotId,
    path: located.path,
    entries,
    packs,
    files,
    dirs,
    bytes,
    readBytes,
    packBytes,
  };
}

/**
 * One copy of each needed blob, from as few packs as it can: a blob stored more than once
 * (docs/format.md §7.2) is read from a pack the plan needs anyway when one holds a copy, and
 * otherwise from the pack holding copies of the most such blobs (a greedy cover; on a tie, the
 * copy the index lists first, as `RepoIndex.get` would). A cold
 * restore thaws whole packs, so fewer packs is what a directory's restore costs.
 */
export function chooseCopies(
  copiesOf: (id: string) => BlobEntry[],
  needed: { id: string; rel: string }[],
): BlobEntry[] {
  const chosen: BlobEntry[] = [];
  const packs = new Set<string>();
  let open: BlobEntry[][] = [];
  for (const { id, rel } of needed) {
    const copies = copiesOf(id);
    if (copies.length === 0) {
      throw new ObjectNotFound(
        `blob "${id}" of "${rel}" is not in the index; run \`permafrost check\``,
      );
    }
    if (copies.length === 1) {
      chosen.push(copies[0]);
      packs.add(copies[0].pack);
    } else open.push(copies);
  }
  while (open.length > 0) {
    const left: BlobEntry[][] = [];
    for (const copies of open) {
      const inPlan = copies.find((c) => packs.has(c.pack));
      if (inPlan) chosen.push(inPlan);
      else left.push(copies);
    }
    if (left.length === 0) break;
    // Counted in index order, so a tie goes to the copy the index lists first (`get`'s).
    const votes = new Map<string, number>();
    for (const copies of left) {
      for (const c of copies) votes.set(c.pack, (votes.get(c.pack) ?? 0) + 1);
    }
    let best = "", most = 0;
    for (const [pack, n] of votes) if (n > most) [best, most] = [pack, n];
    packs.add(best);
    open = left;
  }
  return chosen;
}
