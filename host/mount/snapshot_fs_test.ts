import assert from "node:assert/strict";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import type { Tree } from "../repository/tree.ts";
import { type Inode, SnapshotFs } from "./snapshot_fs.ts";

/** A repository of trees only: `top` holds `dirs` folders of `files` files each. */
function treeRepo(dirs: number, files: number): { repo: Repository; reads: () => number } {
  let reads = 0;
  const node = (name: string, extra: object) => ({ name, mode: 0o644, mtime: 0, ...extra });
  const tree = (id: string): Tree => {
    reads++;
    if (id === "top") {
      return {
        nodes: Array.from(
          { length: dirs },
          (_, i) => node(`d${i}`, { type: "dir", subtree: `dir${i}` }),
        ),
      } as unknown as Tree;
    }
    return {
      nodes: Array.from({ length: files }, (_, i) => node(`f${i}`, { type: "file", size: 1 })),
    } as unknown as Tree;
  };
  const repo = { tree: (id: string) => Promise.resolve(tree(id)) } as unknown as Repository;
  return { repo, reads: () => reads };
}

const snapshot = {
  id: "3f2a9c01".padEnd(64, "0"),
  manifest: { time: "2026-12-07T00:00:00Z", root: "top" },
} as unknown as SnapshotEntry;

/** What the kernel does for `find`: looks up every name below `dir`; the inodes it holds. */
async function walk(fs: SnapshotFs, dir: Inode, held: Inode[] = []): Promise<Inode[]> {
  for (const child of (await fs.children(dir)).values()) {
    fs.remember(child);
    held.push(child);
    if (child.type === "dir") await walk(fs, child, held);
  }
  return held;
}

Deno.test("inodes the kernel forgets leave the mount's table, listings and all", async () => {
  const { repo, reads } = treeRepo(40, 100); // 4,040 entries
  const fs = new SnapshotFs(repo, [snapshot]);
  const baseline = fs.size; // the top level, the snapshot's root, its date link and latest
  const root = fs.get(1)!;
  const snapRoot = (await fs.children((await fs.children(root)).get("ids")!)).get("3f2a9c01")!;
  const held = await walk(fs, snapRoot);
  assert.equal(fs.size, baseline + 4_040);
  // A second lookup of each (as after a cache drop of the dentry alone) needs a second forget.
  for (const inode of held) fs.remember(inode);
  for (const inode of held.toReversed()) fs.forget(inode.ino, 1); // children before parents
  assert.equal(fs.size, baseline + 4_040);
  for (const inode of held.toReversed()) fs.forget(inode.ino, 1);
  assert.equal(fs.size, baseline);
  assert.equal(fs.get(held[0].ino), undefined);
  for (const dir of held.filter((i) => i.type === "dir")) assert.equal(dir.children, undefined);
  // The snapshot's root is kept, listing included; walking again reads each folder's tree again
  // and numbers its entries anew: no number the kernel was given is given to another entry.
  assert.ok(snapRoot.children);
  fs.forget(snapRoot.ino, 1);
  assert.equal(fs.get(snapRoot.ino), snapRoot);
  const before = reads();
  const again = await walk(fs, snapRoot);
  assert.equal(reads() - before, 40);
  const oldNumbers = new Set(held.map((i) => i.ino));
  const reused = again.filter((i) => i.type === "file" && oldNumbers.has(i.ino));
  assert.deepEqual(reused, []);
});

Deno.test("an entry listed but never looked up is not in the mount's table", async () => {
  const { repo } = treeRepo(3, 5);
  const fs = new SnapshotFs(repo, [snapshot], { only: snapshot });
  const baseline = fs.size;
  const listed = await fs.children(fs.get(1)!);
  assert.equal(listed.size, 3);
  assert.equal(fs.size, baseline); // readdir gives numbers, but the kernel holds none of them
  for (const child of listed.values()) assert.equal(fs.get(child.ino), undefined);
});
