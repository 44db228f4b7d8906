/**
 * `gc mark` (docs/gc.md "Mark", stage 2): which blobs every snapshot still needs,
 * and how many stored bytes of each pack are live or dead. Reads only hot objects (snapshot
 * manifests, index segments, metadata packs' hot copies); deletes and writes nothing in the
 * repository. `gc compact` calls {@link markRepository} to know which blobs to copy.
 *
 * - **Live blobs**: every snapshot's details blob, root tree, every tree below it and every
 *   data blob its files name (docs/format.md §8, §9; {@link liveBlobs}). Trees are
 *   content-addressed, so a tree already walked (shared by many snapshots, or an unchanged
 *   folder) is not read again. Pack-index blobs (§6.5) are referenced by nothing, but a
 *   rebuild needs them: one that names a data pack still holding live data counts as live in
 *   the pack usage (it is in `packIndexes`, not in `live`, which is what snapshots reach and
 *   what compaction copies; a compaction's own uploader writes pack-index blobs for its packs).
 * - **A blob in several packs** (docs/format.md §7: two clients stored it at once, a backup
 *   stored a small copy again near a directory using it, §7.2, or a compaction copied it):
 *   every copy of a needed blob is live, except a copy in an unattested pack while an attested
 *   pack (§7.1, written by an admin run) holds the blob by its own verified record. That is the
 *   rule `gc compact` copies by (gc_compact_execute.ts): it skips exactly such blobs. So a
 *   backup's locality copies are not dead data, and the copies a stopped compaction left are.
 * - **Stored bytes** are not exact per blob, since a frame compresses many blobs together
 *   (§6.2): each frame's sealed `frameLength` is shared among its blobs in proportion to their
 *   plaintext `length`. The rest of the pack (header, table of contents, trailer) is live
 *   overhead while the pack holds any live blob; a pack with none is dead for its whole length.
 * - **Tiers**: data packs are cold (`packs/<id>`); metadata packs are in both, with the same
 *   bytes (`packs/<id>` and its hot copy `meta/<id>`).
 * - **Orphans**: `packs/` and `meta/` objects outside the effective index: named by no segment
 *   (a backup killed between its packs and its segment, §10.5), or retired by a superseding
 *   segment (§7.1, after `gc compact`). Dead for their whole length; `gc purge` deletes them.
 * - **Order**: snapshots are listed first, then the packs, then the index is loaded. A backup
 *   running meanwhile may show as orphan packs, or as indexed blobs no listed snapshot needs
 *   yet (counted dead): the report is a snapshot in time, and later stages keep their own
 *   grace periods for young packs.
 * - **Objects that do not decode**: a snapshot manifest or index segment that is damaged or of
 *   a newer format version stops the mark (`assertNothingUndecodable`, naming the objects):
 *   without it, what it references would look dead, and compact and purge would delete it.
 *
 * Admin only (`assertAdmin`): trees need the private key, and the report is the basis of what
 * gc deletes; an ingest key is refused before anything is listed.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { decodeIndexSegment, type IndexedPack } from "../repository/index_segment.ts";
import { idOf, kindOf, layout, type Tier } from "../repository/layout.ts";
import type { BlobLocation } from "../repository/pack.ts";
import { decodePackIndex } from "../repository/pack_index.ts";
import { inBatches, type Repository, type SnapshotEntry } from "../repository/repository.ts";
import { decodeTree } from "../repository/tree.ts";
import type { ObjectInfo } from "../storage/storage.ts";
import { assertAdmin, assertNothingUndecodable } from "./admin_gate.ts";
import { attestedBlobs, effectiveRecords } from "./gc_records.ts";

/** The version of a saved mark report (host/ops/gc_mark_store.ts). */
export const MARK_VERSION = 1;

/** The default `--threshold`: compact when dead data is more than this share of the bill. */
export const DEFAULT_THRESHOLD_PCT = 20;

/** One indexed pack's live and dead blobs and stored bytes (`liveBytes + deadBytes = length`). */
export interface PackUsage {
  id: string;
  metadata: boolean;
  length: number;
  liveBlobs: number;
  deadBlobs: number;
  liveBytes: number;
  deadBytes: number;
}

/**
 * A pack object outside the effective index: an `orphan` no segment names (a killed backup),
 * or a pack `retired` by a superseding segment (docs/format.md §7.1, after `gc compact`).
 * Either is dead for its whole length, and `gc purge` deletes it.
 */
export interface OrphanPack {
  /** Object name: `packs/<id>` (cold) or `meta/<id>` (hot). */
  name: string;
  reason: "orphan" | "retired";
  tier: Tier;
  bytes: number;
  /** When the store received it, where the store says. */
  modified?: string;
}

/** One tier's stored pack bytes: indexed packs (live and dead) and orphans. */
export interface TierUsage {
  packs: number;
  liveBytes: number;
  deadBytes: number;
  orphans: number;
  orphanBytes: number;
}

export interface MarkReport {
  version: typeof MARK_VERSION;
  /** The repository id (config). */
  repository: string;
  /** When the mark ran (ISO 8601). */
  time: string;
  snapshots: number;
  blobs: {
    live: number;
    dead: number;
    /** Blobs a snapshot references that no index segment names (`check` reports them). */
    missing: number;
  };
  tiers: Record<Tier, TierUsage>;
  packs: PackUsage[];
  orphans: OrphanPack[];
  /** Every blob id a snapshot needs (not in `--json` output nor in the saved report). */
  live: Set<string>;
  /**
   * The pack-index blobs still needed: they name a data pack holding live data. Counted live
   * in `packs`; not in `live` (nor in `--json` output or the saved report).
   */
  packIndexes: Set<string>;
}

/** A mark report as saved and printed: everything but the blob id sets. */
export type SavedMark = Omit<MarkReport, "live" | "packIndexes">;

/** Progress of the walk: snapshots done (of all), and trees read so far. */
export interface MarkProgress {
  snapshots: number;
  of: number;
  trees: number;
}

export interface MarkOptions {
  onProgress?: (p: MarkProgress) => void;
}

/** Marks the repository: the live set and each pack's live and dead bytes. Deletes nothing. */
export async function markRepository(
  repo: Repository,
  options: MarkOptions = {},
): Promise<MarkReport> {
  assertAdmin(repo, "gc mark");
  const time = new Date().toISOString();
  const state = await readRepository(repo, options);
  const { packs, packIndexes } = await measurePacks(state);
  const orphans = findOrphans(state);
  let missing = 0;
  for (const id of state.live) if (!repo.index.has(id)) missing++;
  return {
    version: MARK_VERSION,
    repository: repo.config.id,
    time,
    snapshots: state.snapshots.length,
    blobs: {
      live: packs.reduce((sum, p) => sum + p.liveBlobs, 0),
      dead: packs.reduce((sum, p) => sum + p.deadBlobs, 0),
      missing,
    },
    tiers: { cold: tierUsage(packs, orphans, "cold"), hot: tierUsage(packs, orphans, "hot") },
    packs,
    orphans,
    live: state.live,
    packIndexes,
  };
}

/** What the mark read, in the order it read it (`readRepository`), and the live set it walked. */
interface MarkState {
  repo: Repository;
  /** The snapshots counted live: listed first. */
  snapshots: SnapshotEntry[];
  /** The `packs/` and `meta/` objects: listed after the snapshots, before the index. */
  listed: ObjectInfo[];
  /** Every blob id a snapshot needs ({@link liveBlobs}). */
  live: Set<string>;
}

/**
 * Lists the snapshots, then the packs, then loads the index (the module's "Order"), stops at
 * an object that does not decode, and walks the snapshots for the live set.
 */
async function readRepository(repo: Repository, options: MarkOptions): Promise<MarkState> {
  const snapshots = await repo.snapshots();
  const listed = [
    ...await repo.storage.list(layout.prefixes.pack),
    ...await repo.storage.list(layout.prefixes.meta),
  ];
  await repo.loadIndex();
  assertNothingUndecodable(repo, "gc mark");
  const live = await liveBlobs(repo, snapshots, options.onProgress);
  return { repo, snapshots, listed, live };
}

/**
 * Every indexed pack's usage, most dead bytes first, and the pack-index blobs still needed.
 * Data packs are measured first: whether a pack-index blob is needed depends on them, and
 * pack-index blobs live in metadata packs only.
 */
async function measurePacks(
  state: MarkState,
): Promise<{ packs: PackUsage[]; packIndexes: Set<string> }> {
  const { repo, live } = state;
  const contents = await packContents(repo);
  const redundant = await redundantCopy(repo);
  let packIndexes = new Set<string>();
  const usageOf = (info: { id: string; metadata: boolean; length: number }) =>
    packUsage(
      info,
      contents.get(info.id) ?? [],
      (b) => (live.has(b.id) || packIndexes.has(b.id)) && !redundant(b.id, info.id),
    );
  const usage = new Map<string, PackUsage>();
  for (const info of repo.index.packs()) if (!info.metadata) usage.set(info.id, usageOf(info));
  packIndexes = await neededPackIndexes(
    repo,
    (pack) => (usage.get(pack)?.liveBlobs ?? 0) > 0,
  );
  for (const info of repo.index.packs()) if (info.metadata) usage.set(info.id, usageOf(info));
  const packs = [...usage.values()];
  packs.sort((a, b) => b.deadBytes - a.deadBytes || (a.id < b.id ? -1 : 1));
  return { packs, packIndexes };
}

/**
 * Whether the copy of blob `id` in `pack` is redundant (the module's "A blob in several
 * packs"): `pack` is not attested, and an attested pack holds the blob by its own verified
 * record. A version-1 segment claiming an attested pack holds some blob must not make that
 * blob's other copies look dead, so only the attested packs' own records count.
 */
async function redundantCopy(repo: Repository): Promise<(id: string, pack: string) => boolean> {
  const attested = repo.attestedPacks();
  // Only segments that attest a pack are read: the others hold no attested record.
  const held = attestedBlobs(await effectiveRecords(repo, (seg) => seg.attested.length > 0));
  return (id, pack) => !attested.has(pack) && held.has(id);
}

/**
 * The listed `packs/` and `meta/` objects outside the effective index, by name: `retired` when
 * a superseded segment names them, else `orphan`.
 */
function findOrphans(state: MarkState): OrphanPack[] {
  const { repo, listed } = state;
  const superseded = repo.supersededSegments();
  const retired = new Set(
    repo.segments().filter((seg) => superseded.has(seg.id)).flatMap((seg) => seg.packs),
  );
  return listed
    .filter((o) => {
      const kind = kindOf(o.name);
      return (kind === "pack" || kind === "meta") && repo.index.pack(idOf(o.name)) === undefined;
    })
    .map((o) => ({
      name: o.name,
      reason: retired.has(idOf(o.name)) ? "retired" as const : "orphan" as const,
      tier: kindOf(o.name) === "pack" ? "cold" as const : "hot" as const,
      bytes: o.size,
      ...(o.modified ? { modified: o.modified } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The pack-index blobs (docs/format.md §6.5) that name a data pack still holding live data:
 * they are how the metadata packs alone locate that pack's blobs. One naming only packs that
 * are gone or all dead is dead. One that does not decode is kept (the safe side; `check`
 * reports it).
 */
async function neededPackIndexes(
  repo: Repository,
  holdsLiveData: (pack: string) => boolean,
): Promise<Set<string>> {
  const live = new Set<string>();
  for (const b of repo.index.blobs()) {
    if (b.type !== "pack-index") continue;
    let named: IndexedPack[];
    try {
      named = decodePackIndex(await repo.readBlob(b.id));
    } catch (err) {
      if (err instanceof Error && err.name === "FormatError") {
        live.add(b.id);
        continue;
      }
      throw err;
    }
    if (named.some((p) => holdsLiveData(p.pack))) live.add(b.id);
  }
  return live;
}

/**
 * The ids of every blob the snapshots need: each one's details blob, root tree, all trees
 * below it and all data blobs of its files. Each tree is read once however many snapshots
 * share it. A tree the index does not name stops the walk (`ObjectNotFound` naming the
 * snapshot): without it, what it reaches would look dead. Needs the private key.
 */
export async function liveBlobs(
  repo: Repository,
  snapshots: SnapshotEntry[],
  onProgress?: (p: MarkProgress) => void,
): Promise<Set<string>> {
  const live = new Set<string>();
  // Trees walked, kept apart from `live`: a data blob with a tree's exact bytes has the same
  // id, and must not stop that tree from being walked.
  const walked = new Set<string>();
  let done = 0;
  for (const s of snapshots) {
    live.add(s.manifest.details);
    const stack = [s.manifest.root];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (walked.has(id)) continue;
      walked.add(id);
      live.add(id);
      if (!repo.index.has(id)) {
        throw new ObjectNotFound(
          `snapshot "${s.id.slice(0, 8)}" needs tree "${id}", which no index segment names; ` +
            "run `permafrost check` (gc mark stops rather than count what it holds as dead)",
        );
      }
      // readBlob, not repo.tree(): the walk reads every tree once, so caching them all for the
      // life of the repository object would only hold memory.
      const tree = decodeTree(await repo.readBlob(id));
      for (const node of tree.nodes) {
        for (const blob of node.content ?? []) live.add(blob);
        if (node.subtree !== undefined && !walked.has(node.subtree)) stack.push(node.subtree);
      }
    }
    onProgress?.({ snapshots: ++done, of: snapshots.length, trees: walked.size });
  }
  return live;
}

/**
 * One pack's usage from its blob entries (docs/gc.md "Mark"): each frame's `frameLength` is
 * shared among its blobs by plaintext `length` (equally when they are all empty); the bytes
 * outside frames (header, TOC, trailer) are live while any blob is. Pure.
 */
export function packUsage(
  pack: { id: string; metadata: boolean; length: number },
  blobs: readonly BlobLocation[],
  isLive: (blob: BlobLocation) => boolean,
): PackUsage {
  const frames = new Map<number, { frameLength: number; plain: number; count: number }>();
  for (const b of blobs) {
    const f = frames.get(b.frameOffset) ?? { frameLength: b.frameLength, plain: 0, count: 0 };
    f.plain += b.length;
    f.count++;
    frames.set(b.frameOffset, f);
  }
  let framed = 0;
  for (const f of frames.values()) framed += f.frameLength;
  let liveBlobs = 0;
  let liveFramed = 0;
  for (const b of blobs) {
    if (!isLive(b)) continue;
    liveBlobs++;
    const f = frames.get(b.frameOffset)!;
    liveFramed += f.plain > 0 ? (f.frameLength * b.length) / f.plain : f.frameLength / f.count;
  }
  const overhead = Math.max(0, pack.length - framed);
  const liveBytes = liveBlobs > 0 ? Math.min(pack.length, Math.round(liveFramed + overhead)) : 0;
  return {
    id: pack.id,
    metadata: pack.metadata,
    length: pack.length,
    liveBlobs,
    deadBlobs: blobs.length - liveBlobs,
    liveBytes,
    deadBytes: pack.length - liveBytes,
  };
}

/**
 * The recommendation: compact when dead data is more than `thresholdPct` percent of the
 * monthly bill. `share` is a fraction (0.25 = 25%); `null` (not priced) never recommends.
 */
export function recommend(
  share: number | null,
  thresholdPct: number,
): { compact: boolean; reason: string } {
  if (share === null) {
    return { compact: false, reason: "the dead share of the bill is unknown" };
  }
  const pct = `${(share * 100).toFixed(1)}%`;
  return share * 100 > thresholdPct
    ? {
      compact: true,
      reason: `dead data is ${pct} of the monthly bill, over the ${thresholdPct}% threshold: ` +
        "run `permafrost gc compact`",
    }
    : {
      compact: false,
      reason: `dead data is ${pct} of the monthly bill, within the ${thresholdPct}% threshold: ` +
        "no compaction needed",
    };
}

/** The report without its blob id sets, as `--json` prints it and the state folder keeps it. */
export function withoutLive(report: MarkReport): SavedMark {
  const { live: _live, packIndexes: _packIndexes, ...saved } = report;
  return saved;
}

function tierUsage(packs: PackUsage[], orphans: OrphanPack[], tier: Tier): TierUsage {
  const inTier = tier === "cold" ? packs : packs.filter((p) => p.metadata);
  const stray = orphans.filter((o) => o.tier === tier);
  return {
    packs: inTier.length,
    liveBytes: inTier.reduce((sum, p) => sum + p.liveBytes, 0),
    deadBytes: inTier.reduce((sum, p) => sum + p.deadBytes, 0),
    orphans: stray.length,
    orphanBytes: stray.reduce((sum, o) => sum + o.bytes, 0),
  };
}

/**
 * Every indexed pack's blob entries, from the in-memory index, which keeps every copy of a
 * blob. A pack listing the same blob twice is rare (the index keeps one of the two); then
 * the pack's full list is read again from an effective segment naming it (§7: a pack's entry
 * in a segment equals its TOC).
 */
async function packContents(repo: Repository): Promise<Map<string, BlobLocation[]>> {
  const byPack = new Map<string, BlobLocation[]>();
  for (const b of repo.index.locations()) {
    const list = byPack.get(b.pack);
    if (list) list.push(b);
    else byPack.set(b.pack, [b]);
  }
  const short = new Set<string>();
  for (const p of repo.index.packs()) {
    if ((byPack.get(p.id)?.length ?? 0) < p.blobs) short.add(p.id);
  }
  if (short.size === 0) return byPack;
  const superseded = repo.supersededSegments();
  const segments = repo.segments().filter((seg) =>
    !superseded.has(seg.id) && seg.packs.some((p) => short.has(p))
  );
  const found = new Map<string, IndexedPack>();
  await inBatches(segments, 16, async (seg) => {
    let packs: IndexedPack[];
    try {
      packs = decodeIndexSegment(repo.keys.indexKey, await repo.storage.read(layout.index(seg.id)));
    } catch (err) {
      // Loaded a moment ago: only a segment deleted since (by a concurrent gc) fails here.
      if (err instanceof ObjectNotFound) return;
      throw err;
    }
    for (const p of packs) if (short.has(p.pack) && !found.has(p.pack)) found.set(p.pack, p);
  });
  for (const [id, p] of found) byPack.set(id, p.blobs);
  return byPack;
}
