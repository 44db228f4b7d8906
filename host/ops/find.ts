/**
 * `find PATTERN...`: which snapshots contain paths matching glob patterns, with size and mtime
 * per hit. A pattern without `/` matches base names; with `/`, whole snapshot paths.
 * Trees shared between snapshots are read once (the repository caches them).
 *
 * @module
 */

import picomatch from "picomatch";
import type { Repository } from "../repository/repository.ts";
import { listed, type ListedEntry } from "./ls.ts";
import { walkTree } from "./snapshot_path.ts";

export interface FindHit extends ListedEntry {
  snapshot: string;
  time: string;
  host: string;
}

export async function find(repo: Repository, patterns: string[]): Promise<FindHit[]> {
  if (patterns.length === 0) throw new TypeError("give at least one pattern to find");
  const matchers = patterns.map((p) => {
    const m = picomatch(p.startsWith("/") ? p : p.includes("/") ? `**/${p}` : p, { dot: true });
    return p.includes("/") ? (path: string) => m(path) : (path: string) => m(basename(path));
  });
  const hits: FindHit[] = [];
  for (const snap of await repo.snapshots()) {
    await walkTree(repo, snap.manifest.root, "/", (path, node) => {
      if (matchers.some((m) => m(path))) {
        hits.push({
          snapshot: snap.id,
          time: snap.manifest.time,
          host: snap.manifest.host,
          ...listed(path, node),
        });
      }
    });
  }
  return hits;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
