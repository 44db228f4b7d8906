/**
 * Paths inside a snapshot: `/` is the snapshot root, whose entries are the backed-up sources by
 * base name (`/docs/report.txt`). Used by `ls`, `restore SNAP:PATH`, `find` and `diff`.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { Repository } from "../repository/repository.ts";
import type { TreeNode } from "../repository/tree.ts";

/** Splits a snapshot path into components, ignoring empty ones and `.`; refuses `..`. */
export function pathComponents(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new TypeError(`snapshot path "${path}" may not contain ".."`);
  return parts;
}

/** A node found at a snapshot path, or the root (`node` undefined, `tree` the root tree). */
export interface Located {
  path: string;
  node?: TreeNode;
}

/** Finds the node at `path` under the root tree `root`; ObjectNotFound names the path. */
export async function locate(repo: Repository, root: string, path: string): Promise<Located> {
  const parts = pathComponents(path);
  let treeId = root;
  let node: TreeNode | undefined;
  for (let i = 0; i < parts.length; i++) {
    const tree = await repo.tree(treeId);
    node = tree.nodes.find((n) => n.name === parts[i]);
    if (!node) {
      throw new ObjectNotFound(`"${"/" + parts.slice(0, i + 1).join("/")}" is not in the snapshot`);
    }
    if (i < parts.length - 1) {
      if (node.type !== "dir" || !node.subtree) {
        throw new ObjectNotFound(`"${"/" + parts.slice(0, i + 1).join("/")}" is not a directory`);
      }
      treeId = node.subtree;
    }
  }
  return { path: "/" + parts.join("/"), node };
}

/** Visits every node below a tree, depth first, with its snapshot path. */
export async function walkTree(
  repo: Repository,
  treeId: string,
  prefix: string,
  visit: (path: string, node: TreeNode) => void | Promise<void>,
): Promise<void> {
  const tree = await repo.tree(treeId);
  for (const node of tree.nodes) {
    const path = prefix === "/" ? `/${node.name}` : `${prefix}/${node.name}`;
    await visit(path, node);
    if (node.type === "dir" && node.subtree) await walkTree(repo, node.subtree, path, visit);
  }
}
