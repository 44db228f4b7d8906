/**
 * Where a repository's index cache lives, and turning it on for a command that opened the
 * repository (host/repository/disk_index.ts; docs/format.md §10b).
 *
 * @module
 */

import { join } from "node:path";
import type { Repository } from "../repository/repository.ts";

/**
 * The index cache of one repository for one kind of key (an admin and an ingest key see the
 * effective index differently, docs/format.md §7.1), creating its folder.
 */
export function indexCacheFile(cacheDir: string, repoId: string, admin: boolean): string {
  const dir = join(cacheDir, repoId);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, admin ? "index.sqlite" : "index-ingest.sqlite");
}

/**
 * Keeps `repo`'s effective index in its index cache under `cacheDir` (call before
 * `repo.loadIndex()`). When the cache folder cannot be written (a read-only home, say), the
 * index stays in memory and `repo.warnings` says why: the command still works, only slower.
 */
export function useIndexCache(repo: Repository, cacheDir: string): void {
  let file = cacheDir;
  try {
    file = indexCacheFile(cacheDir, repo.config.id, repo.canRead);
    repo.useIndexCache(file);
  } catch (err) {
    // Whatever the file system or SQLite says (a read-only home, a folder where the file goes,
    // a full disk): a cache never stops a command. Only a programming error goes on.
    if (
      !(err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound ||
        err instanceof Deno.errors.NotCapable ||
        typeof (err as { code?: unknown }).code === "string")
    ) {
      throw err;
    }
    repo.warnings.push(
      `"${file}" index cache unusable (${(err as Error).message}); the index is read into memory`,
    );
  }
}
