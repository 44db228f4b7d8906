/**
 * Index consolidation (docs/gc.md "Index", admin only): one superseding segment (docs/format.md
 * §7.1) that lists every pack of the effective index and supersedes every segment, so readers
 * load one object instead of one per backup run. It retires no pack: every pack the old
 * segments name is in the new one. The old segments stay until `gc purge` deletes them. A
 * segment naming a pack that another segment records differently is left out (see below).
 *
 * @module
 */

import type { IndexedPack } from "../repository/index_segment.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { assertAdmin } from "./admin_gate.ts";
import { disputedPacks, effectiveRecords } from "./gc_records.ts";

export interface ConsolidateResult {
  /** Effective segments consolidated (now superseded). */
  segments: number;
  packs: number;
  /**
   * The new segment (with `dryRun`, the one it would be), or undefined when there was at most
   * one effective segment.
   */
  segment?: string;
  /**
   * Packs that effective segments give different records of (one is forged): the segments
   * naming them are left as they are, not consolidated. Absent when there was nothing to do.
   */
  disputed?: string[];
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
  // A pack that segments give different records of (one is forged: gc_records.ts) must not
  // lose its true record to a forged one in the new segment: every segment naming such a pack
  // stays effective, as it is, and only the others are consolidated. `check --read-data`
  // names the segment that claims what the pack does not hold.
  const records = await effectiveRecords(repo);
  const disputed = disputedPacks(records);
  const kept = records.filter((s) => s.packs.some((p) => disputed.has(p.pack)));
  const merged = records.filter((s) => !kept.includes(s));
  if (merged.length <= 1) {
    return { segments: effective.length, packs: repo.index.packCount, disputed: [...disputed] };
  }
  // Attested packs keep their flag (only where the admin tag verifies: gc_records.ts); a pack
  // named by several segments is listed once, attested if any of them attests it.
  const packs = new Map<string, IndexedPack>();
  for (const s of merged) {
    for (const p of s.packs) {
      if (!packs.has(p.pack) || p.attested) packs.set(p.pack, p);
    }
  }
  // `writeSegment` closes the list (every segment superseded already, §7.1) and adopts the new
  // segment, so the index in memory is the consolidated one.
  const id = await repo.writeSegment([...packs.values()], {
    supersedes: merged.map((s) => s.id),
    dryRun: options.dryRun === true,
  });
  return {
    segments: merged.length,
    packs: packs.size,
    segment: layout.index(id),
    disputed: [...disputed],
  };
}
