/**
 * `worm status`: the protected files of the ledger (`host/cache/protection_ledger.ts`) against
 * the disk, without backing up (docs/engines.md). A file is unchanged when its size, mtime and
 * ctime are the ledger's; when they differ its content ids are computed as its engine would cut
 * it, by the engine-neutral path `diff --content` uses (the engine's `split`, then keyed ids),
 * and only a content that differs is "changed". A file that is gone, no longer a file, or
 * unreadable has "vanished", as a backup would find it.
 *
 * @module
 */

import fs from "node:fs";
import type { ProtectionLedger } from "../cache/protection_ledger.ts";
import type { Repository } from "../repository/repository.ts";
import { contentIds, splitter, Unreadable } from "./diff.ts";
import { type Finding, restoreCommand } from "./protection.ts";

/** One protected source's state. */
export interface SourceStatus {
  source: string;
  engine: string;
  /** Files protected, and their bytes as first stored. */
  files: number;
  bytes: number;
  findings: Finding[];
  /**
   * The source path itself is gone from the disk (moved, renamed, deleted): every file of it
   * has vanished, and only `worm forget` stops reporting them (`protection_forget.ts`).
   */
  gone: boolean;
}

/**
 * The status of each ledger source under `paths` (absolute; every source when empty). Notes
 * (an engine that cannot split) go to `onNote`.
 */
export async function protectionStatus(
  repo: Repository,
  ledger: ProtectionLedger,
  paths: string[],
  onNote?: (note: string) => void,
): Promise<SourceStatus[]> {
  const out: SourceStatus[] = [];
  for (const { engine, source } of ledger.sources()) {
    if (paths.length > 0 && !paths.includes(source)) continue;
    const name = source === "/" ? "root" : source.split("/").pop()!;
    const entries = [...ledger.entries(engine, source).values()]
      .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    const status: SourceStatus = {
      source,
      engine,
      files: 0,
      bytes: 0,
      findings: [],
      gone: missing(source),
    };
    const toRead: { abs: string; rel: string; snapshot: string; content: string[] }[] = [];
    const found = (kind: Finding["kind"], abs: string, rel: string, snapshot: string) =>
      status.findings.push({
        kind,
        path: abs,
        source: name,
        rel,
        snapshot,
        restore: restoreCommand(snapshot, name, rel),
      });
    for (const e of entries) {
      status.files++;
      status.bytes += e.node.size ?? 0;
      const abs = e.path === "" ? source : source === "/" ? `/${e.path}` : `${source}/${e.path}`;
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(abs, { bigint: true });
      } catch {
        found("vanished", abs, e.path, e.snapshot);
        continue;
      }
      if (!st.isFile()) {
        found("vanished", abs, e.path, e.snapshot);
      } else if (Number(st.size) !== e.node.size) {
        found("changed", abs, e.path, e.snapshot);
      } else if (
        st.mtimeNs.toString() !== e.node.mtime || st.ctimeNs.toString() !== e.node.ctime
      ) {
        toRead.push({ abs, rel: e.path, snapshot: e.snapshot, content: e.node.content ?? [] });
      }
    }
    if (toRead.length > 0) {
      const plugin = await splitter(repo, engine, source, { onNote });
      if (plugin === undefined) {
        for (const f of toRead) found("changed", f.abs, f.rel, f.snapshot);
      } else {
        try {
          const all = await contentIds(repo.keys.macKey, plugin, engine, toRead.map((f) => f.abs));
          toRead.forEach((f, j) => {
            const ids = all[j];
            // Unreadable, or no longer a regular file: a backup would not store it either.
            if (ids instanceof Unreadable) return found("vanished", f.abs, f.rel, f.snapshot);
            const same = ids !== undefined && ids.length === f.content.length &&
              ids.every((id, k) => id === f.content[k]);
            if (!same) found("changed", f.abs, f.rel, f.snapshot);
          });
        } finally {
          await plugin.close();
        }
      }
    }
    status.findings.sort((a, b) =>
      a.kind !== b.kind ? (a.kind === "changed" ? -1 : 1) : a.path < b.path ? -1 : 1
    );
    out.push(status);
  }
  return out;
}

/** Whether nothing is at `path` (not even a dangling symlink). */
function missing(path: string): boolean {
  try {
    fs.lstatSync(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}
