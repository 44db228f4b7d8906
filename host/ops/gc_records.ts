/**
 * The records of the effective index segments, as garbage collection reads and carries them
 * (docs/gc.md "Trust"): an ingest client may write segments naming any pack with any
 * contents, so gc trusts a copy of a blob only in a pack an admin-tagged segment attests
 * (docs/format.md §7.1). Here the attested flag is kept only where the segment's admin tag
 * verifies, so a forged flag is never carried into the admin's own segments.
 *
 * @module
 */

import type { BlobLocation } from "../repository/blob_table.ts";
import { type IndexedPack, openIndexSegment } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import { inBatches, type Repository, type SegmentInfo } from "../repository/repository.ts";

/** One effective segment's records. */
export interface SegmentRecords {
  id: string;
  packs: IndexedPack[];
}

/**
 * Reads every effective segment, or those `which` accepts (call `repo.loadIndex()` first). A
 * record keeps its attested flag only when `loadIndex` verified the segment's admin tag
 * (`SegmentInfo.attested`).
 */
export async function effectiveRecords(
  repo: Repository,
  which: (s: SegmentInfo) => boolean = () => true,
): Promise<SegmentRecords[]> {
  const superseded = repo.supersededSegments();
  const chosen = repo.segments().filter((s) => !superseded.has(s.id) && which(s));
  const out = new Array<SegmentRecords>(chosen.length);
  // Read as `loadIndex` reads them, 16 at a time: one GET each on S3, thousands in a large
  // repository whose index was never consolidated.
  await inBatches([...chosen.keys()], 16, async (i) => {
    const s = chosen[i];
    const attested = new Set(s.attested);
    const bytes = await repo.storage.read(layout.index(s.id));
    out[i] = {
      id: s.id,
      packs: openIndexSegment(repo.keys.indexKey, bytes).packs.map((p) => {
        if (!p.attested || attested.has(p.pack)) return p;
        const { attested: _, ...rest } = p;
        return rest;
      }),
    };
  });
  return out;
}

/** The blob ids held by attested packs, leaving out `except` (packs about to be retired). */
export function attestedBlobs(
  records: SegmentRecords[],
  except: Set<string> = new Set(),
): Set<string> {
  const out = new Set<string>();
  for (const s of records) {
    for (const p of s.packs) {
      if (p.attested && !except.has(p.pack)) { for (const b of p.blobs) out.add(b.id); }
    }
  }
  return out;
}

/** A blob entry as a string, equal for equal entries (docs/format.md §6.3). */
export function entryKey(b: BlobLocation): string {
  return `${b.id}:${b.type}:${b.frameOffset}:${b.frameLength}:${b.offsetInFrame}:${b.length}`;
}

/**
 * Whether two records of one pack say the same: length, kind and every blob entry, in order. A
 * segment lists a pack's full contents (docs/format.md §7), so two honest records of a pack are
 * always the same; different ones mean one was forged.
 */
export function sameRecord(a: IndexedPack, b: IndexedPack): boolean {
  return a.length === b.length && a.metadata === b.metadata &&
    a.blobs.length === b.blobs.length &&
    a.blobs.every((x, i) => entryKey(x) === entryKey(b.blobs[i]));
}

/** The packs that effective segments give different records of (one of them is forged). */
export function disputedPacks(records: SegmentRecords[]): Set<string> {
  const first = new Map<string, IndexedPack>();
  const out = new Set<string>();
  for (const s of records) {
    for (const p of s.packs) {
      const seen = first.get(p.pack);
      if (!seen) first.set(p.pack, p);
      else if (!sameRecord(seen, p)) out.add(p.pack);
    }
  }
  return out;
}
