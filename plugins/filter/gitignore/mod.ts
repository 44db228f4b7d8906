/**
 * The `gitignore` filter plugin (docs/plugins.md §6.5): excludes what git would ignore, reading
 * the `.gitignore` files under the backup roots and the `info/exclude` of their work trees.
 * Config `{ roots: (string | { path, worktree? })[] }` (`gitignore_config.ts`); method
 * `match(paths, dirs, root?)` answers, for each path, whether it is excluded. It may read the
 * roots (`$sources`) and nothing else.
 *
 * @module
 */

import { servePlugin } from "../../sdk/mod.ts";
import { parseConfig } from "./gitignore_config.ts";
import { GitignoreMatcher } from "./gitignore_matcher.ts";

servePlugin((ctx) => {
  const matcher = new GitignoreMatcher(parseConfig(ctx.config));
  return {
    /**
     * `true` = excluded, one answer per path; `dirs[i]` says whether `paths[i]` is a folder.
     * With `root` (an absolute source path at or under a root, as the walker sends it), paths
     * are relative to it; without, they are absolute, or relative to the one root there is.
     */
    match(paths: string[], dirs: boolean[], root?: string): boolean[] {
      if (!Array.isArray(paths) || !Array.isArray(dirs) || paths.length !== dirs.length) {
        throw new TypeError(`match() needs two lists of equal length, "paths" and "dirs"`);
      }
      if (root !== undefined && (typeof root !== "string" || !root.startsWith("/"))) {
        throw new TypeError(`match(): root ${JSON.stringify(root)} is not an absolute path`);
      }
      const at = root === undefined
        ? (p: string) => p
        : (p: string) => `${root === "/" ? "" : root}/${p}`;
      return paths.map((p, i) => matcher.excluded(at(String(p)), dirs[i] === true));
    },
  };
});
