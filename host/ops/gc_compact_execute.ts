/**
 * Carrying out a compaction (docs/gc.md "Compact", stage 3): copy the live blobs of
 * the chosen packs into new packs, then write one superseding index segment that takes the
 * chosen packs out of the effective index (docs/format.md §7.1). Nothing is deleted: the old
 * packs are retired, and `gc purge` deletes them later.
 *
 * Order (each step durable before the next, docs/format.md §10 and §7.1):
 * 1. new packs and their version-1 segments (the pack uploader's own write order);
 * 2. the superseding segment: it names every segment that names a chosen pack, plus every
 *    segment already superseded (the list is closed), lists again the other packs of those
 *    segments, so they stay in the effective index, and lists the new packs as **attested**
 *    (written by this admin run).
 *
 * Trust (docs/gc.md "Trust"): a live blob of a chosen pack counts as stored elsewhere only in an
 * attested pack or a pack this run wrote; a location that some version-1 segment claims (which
 * an ingest client can write) is never trusted, so a forged segment cannot make a live blob look
 * duplicated. Before step 2 the live set is taken again and every live blob of a chosen pack is
 * checked to be stored so, so a superseding segment never hides a live blob.
 *
 * A run stopped before step 2 leaves extra copies of live blobs in new packs (valid: any
 * location of a blob is valid) and nothing retired; a rerun copies them again into packs it
 * attests, and a later compaction drops the unattested copies.
 *
 * @module
 */

import { CompressorPool } from "../repository/compressor.ts";
import { MemoryIndex } from "../repository/repo_index.ts";
import type { IndexedPack } from "../repository/index_segment.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import {
  blobFromFrame,
  openDataKey,
  openFrameAsync,
  PACK_HEADER_LENGTH,
  readPackContents,
} from "../repository/pack.ts";
import { decodePackIndex } from "../repository/pack_index.ts";
import { type IndexSink, PackUploader } from "../repository/pack_uploader.ts";
import type { Repository } from "../repository/repository.ts";
import { withPack } from "../repository/repository.ts";
import { assertAdmin, assertNothingUndecodable } from "./admin_gate.ts";
import { liveBlobs } from "./gc_mark.ts";
import { attestedBlobs, effectiveRecords } from "./gc_records.ts";
import { type OnProgress, ProgressCounter } from "./progress.ts";

/** A pack chosen for compaction. */
export interface ChosenPack {
  id: string;
  metadata: boolean;
  /** Its length, when the plan knows it (for the progress totals). */
  bytes?: number;
}

export interface CompactWork {
  /** Packs with live blobs to copy; their cold copies must be readable (thawed) by now. */
  repack: ChosenPack[];
  /** Packs without live blobs: retired without being read. */
  drop: ChosenPack[];
  /** The live set (gc_mark.ts `liveBlobs`), computed by the plan. */
  live: Set<string>;
  /**
   * Pack-index blobs (docs/format.md §6.5) that still describe live data packs: copied with the
   * live blobs, so a rebuild from cold keeps finding those data packs from metadata packs.
   */
  packIndexes?: Set<string>;
}

export interface CompactResult {
  /** Blobs copied into new packs, and their plaintext bytes. */
  copiedBlobs: number;
  copiedBytes: number;
  /** New packs written, and their bytes. */
  newPacks: number;
  newBytes: number;
  /** Packs taken out of the effective index. */
  retired: number;
  /** The superseding segment, or undefined when there was nothing to retire. */
  segment?: string;
}

/** Steps a run reports (tests stop a run at one to prove it leaves a consistent repository). */
export type CompactStep = "copied" | "superseded";

/**
 * Copies, then supersedes (see the module comment). `onProgress` (host/ops/progress.ts, phase
 * `compact`) counts the packs to repack read and their bytes; its final event comes once the
 * superseding segment is written.
 */
export async function executeCompact(
  repo: Repository,
  work: CompactWork,
  onStep: (step: CompactStep) => void | Promise<void> = () => {},
  onProgress?: OnProgress,
): Promise<CompactResult> {
  assertAdmin(repo, "gc compact");
  requirePrivateKey(repo.keys, "packs, so it cannot compact them");
  await repo.loadIndex();
  const chosen = new Set([...work.repack, ...work.drop].map((p) => p.id));
  const result: CompactResult = {
    copiedBlobs: 0,
    copiedBytes: 0,
    newPacks: 0,
    newBytes: 0,
    retired: 0,
  };
  if (chosen.size === 0) return result;

  // The effective segments, whole: the records of the segments to supersede, and which blobs
  // stay stored outside the chosen packs. Only attested packs count (docs/gc.md "Trust"): an
  // ingest client can write a segment claiming any pack holds any blob.
  const superseded = repo.supersededSegments();
  const records = await effectiveRecords(repo);
  const affected = new Map<string, IndexedPack[]>();
  for (const s of records) {
    if (s.packs.some((p) => chosen.has(p.pack))) affected.set(s.id, s.packs);
  }
  const kept = attestedBlobs(records, chosen);

  const progress = new ProgressCounter("compact", onProgress);
  if (work.repack.every((p) => p.bytes !== undefined)) {
    progress.totals(work.repack.length, work.repack.reduce((sum, p) => sum + p.bytes!, 0));
  }
  let readBytes = 0;
  const copied = await copyChosen(repo, work, chosen, kept, result, (bytes) => {
    readBytes += bytes;
    progress.add(1, bytes);
  });
  await onStep("copied");
  await assertCopied(repo, work, chosen, affected, copied.has);

  // The other packs of the superseded segments stay, as they were; the new packs are attested.
  const keep = [
    ...[...affected.values()].flat().filter((p) => !chosen.has(p.pack)),
    ...copied.written.map((p) => ({ ...p, attested: true })),
  ];
  // `writeSegment` adds every segment superseded already (the list is closed, §7.1) and adopts
  // the new one: the index in memory is the effective index after the compaction.
  const supersedes = [...affected.keys(), ...superseded];
  result.segment = layout.index(await repo.writeSegment(keep, { supersedes }));
  result.retired = chosen.size;
  await onStep("superseded");
  progress.finish(work.repack.length, readBytes);
  return result;
}

/**
 * Step 1: copies the live blobs of `work.repack` that `kept` (attested copies outside the chosen
 * packs) lacks into new packs, with their version-1 segments; adds the counts to `result`, and
 * tells `onRead` the length of each pack read.
 * Returns the packs written, and which blobs are now stored outside the chosen packs.
 */
async function copyChosen(
  repo: Repository,
  work: CompactWork,
  chosen: Set<string>,
  kept: ReadonlySet<string>,
  result: CompactResult,
  onRead: (bytes: number) => void,
): Promise<{ written: IndexedPack[]; has: (id: string) => boolean }> {
  const fresh = new MemoryIndex();
  const written: IndexedPack[] = [];
  const sink: IndexSink = {
    has: (id) => kept.has(id) || fresh.has(id),
    // No engine marks here, so nothing is ever stored twice: `get` only serves the interface.
    get: (id) => fresh.get(id),
    add: (packs) => {
      fresh.add(packs);
      written.push(...packs);
    },
  };
  const compressors = new CompressorPool();
  try {
    const uploader = new PackUploader(
      repo.storage,
      repo.keys,
      repo.config,
      sink,
      (packs) => repo.writeSegment(packs),
      compressors.compress,
    );
    for (const p of work.repack) {
      const bytes = await repo.readPack(p.id, p.metadata);
      onRead(bytes.length);
      const copied = await copyLive(repo, p.id, bytes, work, chosen, uploader);
      result.copiedBlobs += copied.blobs;
      result.copiedBytes += copied.bytes;
    }
    await uploader.flush();
    result.newPacks = uploader.stats.packs;
    result.newBytes = uploader.stats.storedBytes;
  } finally {
    compressors.close();
  }
  return { written, has: sink.has };
}

/**
 * Before step 2: every blob the chosen packs hold that a snapshot needs must now be stored in an
 * attested pack or a new one (`stored`). The live set is taken again: snapshots written since
 * the plan (which may have waited a day for restores) count too.
 */
async function assertCopied(
  repo: Repository,
  work: CompactWork,
  chosen: Set<string>,
  affected: Map<string, IndexedPack[]>,
  stored: (id: string) => boolean,
): Promise<void> {
  await repo.loadIndex();
  const live = await liveBlobs(repo, await repo.snapshots());
  assertNothingUndecodable(repo, "gc compact");
  for (const packs of affected.values()) {
    for (const p of packs) {
      if (!chosen.has(p.pack)) continue;
      for (const b of p.blobs) {
        if ((work.live.has(b.id) || live.has(b.id)) && !stored(b.id)) {
          throw new Error(
            `blob "${b.id}" of pack "${p.pack}" is needed by a snapshot but was not copied ` +
              "(it became live after the plan, or no attested pack holds it); nothing was " +
              "retired: run gc compact again, the plan is recomputed",
          );
        }
      }
    }
  }
}

/** Adds the live blobs of one pack (its whole bytes) to `uploader`; returns what it added. */
async function copyLive(
  repo: Repository,
  pack: string,
  bytes: Uint8Array,
  work: CompactWork,
  chosen: Set<string>,
  uploader: PackUploader,
): Promise<{ blobs: number; bytes: number }> {
  const wanted = (id: string) => work.live.has(id) || work.packIndexes?.has(id) === true;
  const out = { blobs: 0, bytes: 0 };
  try {
    const toc = readPackContents(bytes, repo.keys);
    const key = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), repo.keys);
    let frameAt = -1;
    let plain: Uint8Array = new Uint8Array(0);
    for (const b of toc.blobs) {
      if (!wanted(b.id) || uploader.has(b.id)) continue;
      if (b.frameOffset !== frameAt) {
        plain = await openFrameAsync(
          key,
          bytes.subarray(b.frameOffset, b.frameOffset + b.frameLength),
          b.frameOffset,
        );
        frameAt = b.frameOffset;
      }
      const blob = blobFromFrame(plain, b, repo.keys.macKey);
      // A pack index is worth keeping only while it names a data pack this run does not retire.
      if (b.type === "pack-index" && decodePackIndex(blob).every((x) => chosen.has(x.pack))) {
        continue;
      }
      // The uploader owns what it is given: hand it a copy, the frame serves other blobs.
      await uploader.add(b.type, blob.slice());
      out.blobs++;
      out.bytes += b.length;
    }
  } catch (err) {
    throw withPack(err, pack);
  }
  return out;
}
