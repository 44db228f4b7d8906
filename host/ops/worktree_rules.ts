/**
 * What the host reads for the `.gitignore` filter above a backup root (docs/plugins.md §6.5):
 * the filter may read only the roots, but a root inside a git work tree is also governed by the
 * `.gitignore` files above it and by the work tree's `info/exclude`. This module runs in the
 * host, which passes its result as the root's `worktree` in the filter's config.
 *
 * @module
 */

import { dirname } from "node:path";
import {
  readGitignore,
  readInfoExclude,
  workTreeCommonDir,
  type WorktreeRules,
} from "../../plugins/sdk/gitignore_files.ts";

/**
 * The work tree that holds `root` (absolute, normalised) and the ignore files above the root,
 * or `undefined` when no work tree holds it (or the root is inside a `.git`, where git applies
 * no ignore rules). The work tree is found as git finds it: the nearest folder at or above the
 * root with a `.git` that is a repository, not crossing into another file system. Throws,
 * naming the file, when an ignore file is there but cannot be read.
 */
export function readWorktreeRules(root: string): WorktreeRules | undefined {
  if (root.split("/").includes(".git")) return undefined;
  const device = Deno.statSync(root).dev;
  let top: string | undefined;
  let common: string | undefined;
  for (let dir = root;; dir = dirname(dir)) {
    common = workTreeCommonDir(dir);
    if (common !== undefined) {
      top = dir;
      break;
    }
    if (dir === "/" || Deno.statSync(dirname(dir)).dev !== device) return undefined;
  }
  const gitignores: Record<string, Uint8Array> = {};
  for (let dir = dirname(root); top !== root && dir.length >= top.length; dir = dirname(dir)) {
    const content = readGitignore(dir);
    if (content !== undefined) gitignores[dir] = content;
    if (dir === top) break;
  }
  const exclude = readInfoExclude(common);
  return { top, ...(exclude ? { exclude } : {}), gitignores };
}
