/**
 * The restore plan: which entries to create, which blobs they need, and which packs (and
 * frames in them) hold those blobs. Built from trees alone; reads no data pack. `restore`
 * executes it; the cost model (later) prices it; `--dry-run` prints it.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { BlobEntry, RepoIndex } from "../repository/repo_index.ts";
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
      const key = `${node.dev}:${node.inode}:${(node.content ?? []).join(",")}:${
        node.mirror?.sha256 ?? ""
      }`;
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
  const { packs, readBytes, packBytes } = plannedPacks(
    repo.index,
    chooseCopies(copiesLookup(repo.index, needed.map((b) => b.id)), needed),
  );
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

/** The packs holding `blobs` (one copy each), with their needed frames in offset order. */
export function plannedPacks(
  index: RepoIndex,
  blobs: Iterable<BlobEntry>,
): { packs: PlannedPack[]; readBytes: number; packBytes: number } {
  const byPack = new Map<string, Map<number, PlannedFrame>>();
  for (const blob of blobs) {
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
    const info = index.pack(pack)!;
    const sorted = [...frames.values()].sort((a, b) => a.frameOffset - b.frameOffset);
    for (const f of sorted) readBytes += f.frameLength;
    packBytes += info.length;
    packs.push({ pack, metadata: info.metadata, length: info.length, frames: sorted });
  }
  return { packs, readBytes, packBytes };
}

/** `copies` of each of `ids`, asked of the index in batches, as a lookup by id. */
function copiesLookup(index: RepoIndex, ids: string[]): (id: string) => BlobEntry[] {
  const all = index.copiesMany(ids);
  const byId = new Map(ids.map((id, i) => [id, all[i]]));
  return (id) => byId.get(id) ?? index.copies(id);
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
  needed: { id: string; rel?: string }[],
): BlobEntry[] {
  const chosen: BlobEntry[] = [];
  const packs = new Set<string>();
  const open: BlobEntry[][] = [];
  for (const { id, rel } of needed) {
    const copies = copiesOf(id);
    if (copies.length === 0) {
      throw new ObjectNotFound(
        `blob "${id}"${rel ? ` of "${rel}"` : ""} is not in the index; run \`permafrost check\``,
      );
    }
    if (copies.length === 1) {
      chosen.push(copies[0]);
      packs.add(copies[0].pack);
    } else open.push(copies);
  }
  // Blobs with a copy in a pack already needed take it; the rest go to a greedy cover: the pack
  // holding copies of the most of them, again and again. Counts are kept per pack and lowered as
  // blobs are placed, and a heap finds the largest, so this stays near linear in the copies.
  const left: BlobEntry[][] = [];
  for (const copies of open) {
    const inPlan = copies.find((c) => packs.has(c.pack));
    if (inPlan) chosen.push(inPlan);
    else left.push(copies);
  }
  if (left.length === 0) return chosen;
  const holders = new Map<string, { count: number; order: number; blobs: number[] }>();
  left.forEach((copies, i) => {
    for (const c of copies) {
      let h = holders.get(c.pack);
      if (!h) holders.set(c.pack, h = { count: 0, order: holders.size, blobs: [] });
      h.count++;
      h.blobs.push(i);
    }
  });
  // Counted in index order, so a tie goes to the pack met first (the copy `RepoIndex.get` gives).
  const heap = new MaxHeap<{ pack: string; count: number; order: number }>((a, b) =>
    a.count - b.count || b.order - a.order
  );
  for (const [pack, h] of holders) heap.push({ pack, count: h.count, order: h.order });
  const placed = new Array<boolean>(left.length).fill(false);
  let unplaced = left.length;
  while (unplaced > 0) {
    const top = heap.pop()!;
    const h = holders.get(top.pack)!;
    if (top.count !== h.count) { // stale: its blobs were placed meanwhile
      if (h.count > 0) heap.push({ pack: top.pack, count: h.count, order: h.order });
      continue;
    }
    for (const i of h.blobs) {
      if (placed[i]) continue;
      placed[i] = true;
      unplaced--;
      let taken = false;
      for (const c of left[i]) {
        if (!taken && c.pack === top.pack) {
          chosen.push(c);
          taken = true;
        }
        holders.get(c.pack)!.count--;
      }
    }
  }
  return chosen;
}

/** A binary max-heap ordered by `compare` (positive: the first is larger). */
class MaxHeap<T> {
  #items: T[] = [];
  constructor(private compare: (a: T, b: T) => number) {}

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (this.compare(a[i], a[up]) <= 0) break;
      [a[i], a[up]] = [a[up], a[i]];
      i = up;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1, r = l + 1;
        let big = i;
        if (l < a.length && this.compare(a[l], a[big]) > 0) big = l;
        if (r < a.length && this.compare(a[r], a[big]) > 0) big = r;
        if (big === i) break;
        [a[i], a[big]] = [a[big], a[i]];
        i = big;
      }
    }
    return top;
  }
}
