/**
 * Where local state lives: the per-client cache and the default repository.
 *
 * - cache: `PERMAFROST_CACHE_DIR`, else `$XDG_CACHE_HOME/permafrost`, else `~/.cache/permafrost`
 * - default repository: `$XDG_DATA_HOME/permafrost/repo`, else `~/.local/share/permafrost/repo`
 *
 * @module
 */

import { join } from "node:path";

/** An environment variable, treating an empty value as unset. */
function env(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}

function home(): string {
  const h = env("HOME");
  if (!h) {
    throw new Deno.errors.NotFound("HOME is not set; set PERMAFROST_REPO and PERMAFROST_CACHE_DIR");
  }
  return h;
}

export function defaultCacheDir(): string {
  return env("PERMAFROST_CACHE_DIR") ??
    join(env("XDG_CACHE_HOME") ?? join(home(), ".cache"), "permafrost");
}

export function defaultRepository(): string {
  return join(env("XDG_DATA_HOME") ?? join(home(), ".local", "share"), "permafrost", "repo");
}

/** The cache database of one repository, creating its folder. */
export function cacheFile(cacheDir: string, repoId: string): string {
  const dir = join(cacheDir, repoId);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, "files.sqlite");
}

/**
 * Deletes the cache database of one repository, with SQLite's `-wal` and `-shm` files beside
 * it (docs/format.md §10a: deleting the cache is always safe). Whether there was one.
 */
export function removeCacheFile(cacheDir: string, repoId: string): boolean {
  const file = join(cacheDir, repoId, "files.sqlite");
  let removed = false;
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      Deno.removeSync(path);
      removed = true;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return removed;
}
