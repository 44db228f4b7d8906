/**
 * Index consolidation (docs/gc.md "Index", admin only): one superseding segment (docs/format.md
 * §7.1) that lists every pack of the effective index and supersedes every segment, so readers
 * load one object instead of one per backup run. It retires no pack: every pack the old
 * segments name is in the new one. The old segments stay until `gc purge` deletes them.
 *
 * @module
 */

import { sha256Hex } from "../crypto/hash.ts";
import { adminTagKey, encodeIndexSegment, type IndexedPack } from "../repository/index_segment.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { assertAdmin } from "./admin_gate.ts";
import { effectiveRecords } from "./gc_records.ts";

export interface ConsolidateResult {
  /** Effective segments before (now superseded). */
  segments: number;
  packs: number;
  /**
   * The new segment (with `dryRun`, the one it would be), or undefined when there was at most
   * one effective segment.
   */
  segment?: string;
}

/**
 * Writes the consolidated segment; writes nothing when the index is one segment already, or
 * with `dryRun` (which still reads and encodes everything, so its numbers are a real run's).
 */
export async function consolidateIndex(
  repo: Repository,
  options: { dryRun?: boolean } = {},
): Promise<ConsolidateResult> {
  assertAdmin(repo, "gc index");
  requirePrivateKey(repo.keys, "index segments to supersede them");
  await repo.loadIndex();
  const superseded = repo.supersededSegments();
  const effective = repo.segments().filter((s) => !superseded.has(s.id));
  if (effective.length <= 1) {
    return { segments: effective.length, packs: repo.index.packCount };
  }
  // Attested packs keep their flag (only where the admin tag verifies: gc_records.ts); a pack
  // named by several segments is listed once, attested if any of them attests it.
  const packs = new Map<string, IndexedPack>();
  for (const s of await effectiveRecords(repo)) {
    for (const p of s.packs) {
      if (!packs.has(p.pack) || p.attested) packs.set(p.pack, p);
    }
  }
  const supersedes = [...new Set([...effective.map((s) => s.id), ...superseded])].sort();
  const segment = encodeIndexSegment(repo.keys.indexKey, [...packs.values()], {
    supersession: { supersedes, adminTagKey: adminTagKey(repo.keys.privateKey!) },
  });
  const name = layout.index(sha256Hex(segment));
  if (options.dryRun) return { segments: effective.length, packs: packs.size, segment: name };
  await repo.storage.create(name, segment);
  await repo.loadIndex();
  return { segments: effective.length, packs: packs.size, segment: name };
}
