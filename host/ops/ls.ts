/**
 * `ls SNAP [PATH]`: the entries of a snapshot below a path, from trees alone (no data pack).
 *
 * @module
 */

import type { Repository } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";
import { locate, walkTree } from "./snapshot_path.ts";

export interface ListedEntry {
  path: string;
  type: TreeNode["type"];
  mode: number;
  size: number;
  mtime: string;
  target?: string;
}

/** Lists `path` (a directory: everything below it, recursively; a file: itself). */
export async function ls(
  repo: Repository,
  root: string,
  path = "/",
  options: { recursive?: boolean } = {},
): Promise<ListedEntry[]> {
  const recursive = options.recursive ?? true;
  const located = await locate(repo, root, path);
  const out: ListedEntry[] = [];
  const push = (p: string, n: TreeNode) => out.push(listed(p, n));
  if (located.node) {
    push(located.path, located.node);
    if (located.node.type !== "dir" || !located.node.subtree) return out;
    await visit(repo, located.node.subtree, located.path, recursive, push);
  } else {
    await visit(repo, root, "/", recursive, push);
  }
  return out;
}

async function visit(
  repo: Repository,
  tree: string,
  prefix: string,
  recursive: boolean,
  push: (p: string, n: TreeNode) => void,
): Promise<void> {
  if (recursive) return await walkTree(repo, tree, prefix, push);
  for (const n of (await repo.tree(tree)).nodes) {
    push(prefix === "/" ? `/${n.name}` : `${prefix}/${n.name}`, n);
  }
}

export function listed(path: string, n: TreeNode): ListedEntry {
  return {
    path,
    type: n.type,
    mode: n.mode,
    size: n.size ?? 0,
    mtime: nsToIso(n.mtime),
    ...(n.target !== undefined ? { target: n.target } : {}),
  };
}

/** Nanoseconds since the epoch (decimal string) as an ISO time (millisecond precision). */
export function nsToIso(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}
