/**
 * The `exclude` filter plugin: config `{ patterns: string[] }` (gitignore-style, see
 * `exclude_matcher.ts`); method `match(paths, dirs, root?)` answers, for each path relative to
 * the backup source `root`, whether it is excluded. The patterns apply alike under every source,
 * so `root` is not read. It runs with no permissions at all.
 *
 * @module
 */

import { servePlugin } from "../../sdk/mod.ts";
import { ExcludeMatcher } from "./exclude_matcher.ts";

servePlugin((ctx) => {
  const config = ctx.config as { patterns?: unknown } | null;
  const patterns = config?.patterns;
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== "string")) {
    throw new TypeError(`filter "exclude" needs config "patterns", a list of strings`);
  }
  const matcher = new ExcludeMatcher(patterns);
  const dirCache = new Map<string, boolean>();
  return {
    /**
     * `true` = excluded, one answer per path (relative to its source); `dirs[i]` says whether
     * `paths[i]` is a folder. The source itself (a third argument) makes no difference here.
     */
    match(paths: string[], dirs: boolean[]): boolean[] {
      if (!Array.isArray(paths) || !Array.isArray(dirs) || paths.length !== dirs.length) {
        throw new TypeError(`match() needs two lists of equal length, "paths" and "dirs"`);
      }
      if (dirCache.size > 100_000) dirCache.clear();
      return paths.map((p, i) => matcher.excluded(String(p), dirs[i] === true, dirCache));
    },
  };
});
