/**
 * `worm status`: the protected files of the ledger (`host/cache/protection_ledger.ts`) against
 * the disk, without backing up (docs/engines.md). A file is unchanged when its size, mtime and
 * ctime are the ledger's; when they differ its content ids are computed as its engine would cut
 * it, by the engine-neutral path `diff --content` uses (the engine's `split`, then keyed ids),
 * and only a content that differs is "changed". A file that is gone, or no longer a file, has
 * "vanished".
 *
 * @module
 */

import fs from "node:fs";
import type { ProtectionLedger } from "../cache/protection_ledger.ts";
import type { Repository } from "../repository/repository.ts";
import { keyedIds, splitter } from "./diff.ts";
import { type Finding, restoreCommand } from "./protection.ts";

/** Files whose contents are compared in one `split` call. */
const SPLIT_BATCH = 256;

/** One protected source's state. */
export interface SourceStatus {
  source: string;
  engine: string;
  /** Files protected, and their bytes as first stored. */
  files: number;
  bytes: number;
  findings: Finding[];
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
    const status: SourceStatus = { source, engine, files: 0, bytes: 0, findings: [] };
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
          for (let i = 0; i < toRead.length; i += SPLIT_BATCH) {
            const batch = toRead.slice(i, i + SPLIT_BATCH);
            const lengths = await plugin.call<number[][]>("split", batch.map((f) => f.abs));
            batch.forEach((f, j) => {
              const ids = keyedIds(repo.keys.macKey, f.abs, lengths[j], engine);
              const same = ids !== undefined && ids.length === f.content.length &&
                ids.every((id, k) => id === f.content[k]);
              if (!same) found("changed", f.abs, f.rel, f.snapshot);
            });
          }
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
