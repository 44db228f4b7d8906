/**
 * `rebuild` (docs/format.md §10 "Recovery from packs alone"): the hot tier (index segments,
 * snapshot manifests, hot copies of metadata packs) regenerated from the cold packs alone, once
 * the plan's packs are readable (`rebuild_plan.ts`; the CLI requests and waits for restores).
 *
 * Three steps, each reading only what it must:
 * 1. `scanMetadata` reads every metadata pack (and every pack whose kind was unknown) whole: its
 *    TOC, its snapshot details and its pack-index blobs (§6.5), which locate the data blobs of
 *    every completed run, so data packs are not read at all in the normal case.
 * 2. `needsUnnamedPacks` decides whether data packs that no pack-index blob names are needed: only
 *    when a snapshot references a blob nothing located (`missingBlobs`, which reads the trees);
 *    then `readDataTocs` reads their TOCs (those packs must be readable first).
 * 3. `writeRebuild` writes, in the order of §10: hot copies `meta/<id>`, index segments for every
 *    pack not indexed yet, one manifest per details blob (re-encoded with the derived nonce of
 *    §9.1, so with its original id), then deletes the local file cache. Every write is
 *    create-only and skipped when already done, so a rebuild killed at any point is finished by
 *    running it again.
 *
 * Admin only: the caller runs `assertAdmin` before anything (the private key is needed to read
 * packs, and rebuilding rearranges the repository).
 *
 * @module
 */

import { sha256Hex } from "../crypto/hash.ts";
import { removeCacheFile } from "../cache/location.ts";
import type { IndexedPack } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import {
  blobFromFrame,
  type BlobLocation,
  openDataKey,
  openFrame,
  openToc,
  PACK_HEADER_LENGTH,
  PACK_TRAILER_LENGTH,
  packHeader,
  packTrailer,
  readPackContents,
} from "../repository/pack.ts";
import { decodePackIndex } from "../repository/pack_index.ts";
import { inBatches, type Repository } from "../repository/repository.ts";
import { decodeDetails, encodeSnapshot, type SnapshotDetails } from "../repository/snapshot.ts";
import type { RebuildPack, RebuildPlan } from "./rebuild_plan.ts";

/** Metadata pack bytes kept in memory between the scan and the writes (else read again). */
const KEEP_BYTES = 256 << 20;
/** Packs per index segment written. */
const PACKS_PER_SEGMENT = 1000;

/** What the metadata packs say. */
export interface MetadataScan {
  /** Every metadata pack read, as its TOC lists it. */
  metaPacks: IndexedPack[];
  /** Data packs located: named by a pack-index blob, or read from their own TOC. */
  dataPacks: Map<string, IndexedPack>;
  /** Data packs of the cold tier that nothing located (no pack-index blob names them). */
  unnamed: RebuildPack[];
  /** Every snapshot details blob, by blob id. */
  details: Map<string, SnapshotDetails>;
  /** Names in pack-index blobs of packs the cold tier no longer has (deleted by gc). */
  gone: number;
  /** Damaged or inconsistent packs, each a sentence naming the pack; they are left out. */
  problems: string[];
  /** Bytes of metadata packs kept for their hot copies. */
  kept: Map<string, Uint8Array>;
  /** Packs that index segments already named when the scan began (not named again). */
  indexed: Set<string>;
}

/**
 * Reads every pack of `plan.first` (they must be readable): step 1. `onPack` is told each pack
 * once it has been read (or found damaged), for the progress of a rebuild.
 */
export async function scanMetadata(
  repo: Repository,
  plan: RebuildPlan,
  onPack?: (p: RebuildPack) => void,
): Promise<MetadataScan> {
  const state: ScanState = {
    repo,
    scan: {
      metaPacks: [],
      dataPacks: new Map(),
      unnamed: [],
      details: new Map(),
      gone: 0,
      problems: [],
      kept: new Map(),
      indexed: new Set(),
    },
    named: [],
    keptBytes: 0,
  };
  const { scan } = state;
  // Segments that survived, or that a killed earlier run wrote: their packs are not named again.
  await repo.loadIndex();
  for (const p of repo.index.packs()) scan.indexed.add(p.id);
  await inBatches(plan.first, 4, async (p) => {
    try {
      await scanPack(state, p);
    } catch (err) {
      if (!isDamage(err)) throw err;
      scan.problems.push(`pack "${p.id}" cannot be read: ${(err as Error).message}; left out`);
    }
    onPack?.(p);
  });
  locateNamed(state, plan);
  scan.unnamed = plan.packs.filter((p) => p.kind === "data" && !scan.dataPacks.has(p.id));
  return scan;
}

/** What step 1 carries from pack to pack. */
interface ScanState {
  repo: Repository;
  scan: MetadataScan;
  /** The packs named by the pack-index blobs read so far (checked against the plan at the end). */
  named: IndexedPack[];
  /** Bytes of `scan.kept`, at most {@link KEEP_BYTES}. */
  keptBytes: number;
}

/**
 * One pack of the plan's first round: a data pack (of unknown kind until its header is read)
 * gives its own TOC; a metadata pack, read whole and checked against its id, gives its TOC,
 * its snapshot details and the packs its pack-index blobs name, and is kept for its hot copy
 * while {@link KEEP_BYTES} allow. Throws what reading or opening throws.
 */
async function scanPack(state: ScanState, p: RebuildPack): Promise<void> {
  const { repo, scan } = state;
  const header = await repo.storage.read(p.name, { offset: 0, length: PACK_HEADER_LENGTH });
  if (!packHeader(header).metadata) {
    // A pack of unknown kind that is a data pack: its own TOC locates its blobs.
    scan.dataPacks.set(p.id, await readToc(repo, p));
    return;
  }
  const bytes = await repo.storage.read(p.name);
  if (sha256Hex(bytes) !== p.id) {
    scan.problems.push(`pack "${p.id}" does not match its id (damaged); left out`);
    return;
  }
  const { blobs } = readPackContents(bytes, repo.keys);
  scan.metaPacks.push({ pack: p.id, metadata: true, length: bytes.length, blobs });
  readMetadataBlobs(state, bytes, blobs);
  if (state.keptBytes + bytes.length <= KEEP_BYTES) {
    state.keptBytes += bytes.length;
    scan.kept.set(p.id, bytes);
  }
}

/**
 * The snapshot details (into `scan.details`) and pack-index blobs (into `named`) of a
 * metadata pack's `bytes`, whose TOC lists `blobs`; each frame is opened once.
 */
function readMetadataBlobs(state: ScanState, bytes: Uint8Array, blobs: BlobLocation[]): void {
  const { repo, scan } = state;
  const key = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), repo.keys);
  const frames = new Map<number, Uint8Array>();
  for (const b of blobs) {
    if (b.type !== "snapshot" && b.type !== "pack-index") continue;
    let plain = frames.get(b.frameOffset);
    if (!plain) {
      const frame = bytes.subarray(b.frameOffset, b.frameOffset + b.frameLength);
      plain = openFrame(key, frame, b.frameOffset);
      frames.set(b.frameOffset, plain);
    }
    const blob = blobFromFrame(plain, b, repo.keys.macKey);
    if (b.type === "snapshot") scan.details.set(b.id, decodeDetails(blob));
    else state.named.push(...decodePackIndex(blob));
  }
}

/**
 * The data packs the pack-index blobs name, into `scan.dataPacks` (a pack's own TOC, read
 * already, wins): one the plan lacks is counted `gone`; one whose length differs from the
 * plan's is a problem, not indexed.
 */
function locateNamed(state: ScanState, plan: RebuildPlan): void {
  const { scan } = state;
  const inPlan = new Map(plan.packs.map((p) => [p.id, p]));
  for (const n of state.named) {
    const p = inPlan.get(n.pack);
    if (p === undefined) scan.gone++;
    else if (p.bytes !== n.length) {
      scan.problems.push(
        `pack "${n.pack}" has ${p.bytes} bytes, its pack index says ${n.length}; not indexed`,
      );
    } else if (!scan.dataPacks.has(n.pack)) scan.dataPacks.set(n.pack, n);
  }
}

/**
 * Step 2: whether the unnamed data packs must be read, i.e. some snapshot references a blob
 * that the metadata packs do not locate. Reads the snapshots' trees (through `repo`, whose
 * in-memory index learns the packs found). `missing` counts such blobs.
 */
export async function needsUnnamedPacks(
  repo: Repository,
  scan: MetadataScan,
): Promise<{ needed: boolean; missing: number }> {
  if (scan.unnamed.length === 0) return { needed: false, missing: 0 };
  const missing = await missingBlobs(repo, scan);
  return { needed: missing.size > 0, missing: missing.size };
}

/**
 * Blobs referenced by the scanned snapshots (root trees, the trees below them, file chunks)
 * that no pack found locates. Each tree is read once, however many snapshots share it. The
 * packs found are added to `repo.index` (in memory) so the trees can be read.
 */
export async function missingBlobs(repo: Repository, scan: MetadataScan): Promise<Set<string>> {
  repo.index.add([...scan.metaPacks, ...scan.dataPacks.values()]);
  const missing = new Set<string>();
  const seen = new Set<string>();
  const check = (id: string) => {
    if (seen.has(id)) return false;
    seen.add(id);
    if (repo.index.has(id)) return true;
    missing.add(id);
    return false;
  };
  const visit = async (treeId: string): Promise<void> => {
    for (const node of (await repo.tree(treeId)).nodes) {
      for (const id of node.content ?? []) check(id);
      if (node.subtree && check(node.subtree)) await visit(node.subtree);
    }
  };
  for (const d of scan.details.values()) {
    if (check(d.manifest.root)) await visit(d.manifest.root);
  }
  return missing;
}

/** Reads the TOCs of `packs` (readable data packs) into `scan.dataPacks`; `onPack` as above. */
export async function readDataTocs(
  repo: Repository,
  scan: MetadataScan,
  packs: readonly RebuildPack[],
  onPack?: (p: RebuildPack) => void,
): Promise<void> {
  await inBatches([...packs], 8, async (p) => {
    try {
      scan.dataPacks.set(p.id, await readToc(repo, p));
    } catch (err) {
      if (!isDamage(err)) throw err;
      scan.problems.push(`pack "${p.id}" cannot be read: ${(err as Error).message}; left out`);
    }
    onPack?.(p);
  });
  scan.unnamed = scan.unnamed.filter((p) => !scan.dataPacks.has(p.id));
}

/** A pack's own TOC, from three ranged reads: header, trailer, TOC. */
async function readToc(repo: Repository, p: RebuildPack): Promise<IndexedPack> {
  const header = await repo.storage.read(p.name, { offset: 0, length: PACK_HEADER_LENGTH });
  const trailerAt = p.bytes - PACK_TRAILER_LENGTH;
  const tocLength = packTrailer(
    await repo.storage.read(p.name, { offset: trailerAt, length: PACK_TRAILER_LENGTH }),
  );
  const tocAt = trailerAt - tocLength;
  if (tocAt < PACK_HEADER_LENGTH) {
    throw new RangeError(`pack trailer states a ${tocLength}-byte TOC, longer than the pack`);
  }
  const toc = await repo.storage.read(p.name, { offset: tocAt, length: tocLength });
  const blobs = openToc(openDataKey(header, repo.keys), toc, tocAt);
  return { pack: p.id, metadata: packHeader(header).metadata, length: p.bytes, blobs };
}

/** What `writeRebuild` wrote, and what it found already there. */
export interface RebuildResult {
  metaCopies: { written: number; present: number };
  /** Index segments written, and the packs they name (packs already indexed are not named). */
  segments: number;
  indexedPacks: number;
  snapshots: { written: number; present: number; ids: string[] };
  /** Whether a local file cache of this repository was deleted. */
  cacheDeleted: boolean;
}

/** Step 3: writes the hot tier from `scan`, in the write order of docs/format.md §10. */
export async function writeRebuild(
  repo: Repository,
  scan: MetadataScan,
  options: { cacheDir?: string; onStep?: (what: string) => void } = {},
): Promise<RebuildResult> {
  const result: RebuildResult = {
    metaCopies: { written: 0, present: 0 },
    segments: 0,
    indexedPacks: 0,
    snapshots: { written: 0, present: 0, ids: [] },
    cacheDeleted: false,
  };
  options.onStep?.("hot copies of the metadata packs");
  await writeMetaCopies(repo, scan, result);
  options.onStep?.("index segments");
  await writeSegments(repo, scan, result);
  options.onStep?.("snapshot manifests");
  await writeManifests(repo, scan, result);
  // The local file cache: a hint about the old index, dropped (docs/format.md §10a).
  if (options.cacheDir) result.cacheDeleted = removeCacheFile(options.cacheDir, repo.config.id);
  return result;
}

/**
 * §10 first: the hot copy `meta/<id>` of every metadata pack found, unless one of its length is
 * there, from the bytes the scan kept or read again, verified against the pack's id.
 */
async function writeMetaCopies(
  repo: Repository,
  scan: MetadataScan,
  result: RebuildResult,
): Promise<void> {
  const hot = new Map(
    (await repo.storage.list(layout.prefixes.meta)).map((o) => [o.name, o.size]),
  );
  await inBatches(scan.metaPacks, 4, async (p) => {
    const name = layout.metaCopy(p.pack);
    if (hot.get(name) === p.length) {
      result.metaCopies.present++;
      return;
    }
    const bytes = scan.kept.get(p.pack) ?? await repo.storage.read(layout.pack(p.pack));
    scan.kept.delete(p.pack);
    if (sha256Hex(bytes) !== p.pack) {
      throw new Error(`pack "${p.pack}" changed while the rebuild ran (its id no longer matches)`);
    }
    await repo.storage.create(name, bytes);
    result.metaCopies.written++;
  });
}

/**
 * Then index segments (through `Repository.writeSegment`, which adopts them into the loaded
 * index) naming every pack found that no segment named when the scan began, by pack id,
 * {@link PACKS_PER_SEGMENT} to a segment.
 */
async function writeSegments(
  repo: Repository,
  scan: MetadataScan,
  result: RebuildResult,
): Promise<void> {
  const toName = [...scan.metaPacks, ...scan.dataPacks.values()]
    .filter((p) => !scan.indexed.has(p.pack))
    .sort((a, b) => a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : 0);
  for (let i = 0; i < toName.length; i += PACKS_PER_SEGMENT) {
    const packs = toName.slice(i, i + PACKS_PER_SEGMENT);
    await repo.writeSegment(packs);
    for (const p of packs) scan.indexed.add(p.pack);
    result.segments++;
    result.indexedPacks += packs.length;
  }
}

/**
 * Last, one manifest per details blob, oldest first, re-encoded from the details (§9.1: the
 * same bytes, so the same id), unless it is there already.
 */
async function writeManifests(
  repo: Repository,
  scan: MetadataScan,
  result: RebuildResult,
): Promise<void> {
  const present = new Set((await repo.storage.list(layout.prefixes.snapshot)).map((o) => o.name));
  const ordered = [...scan.details].sort(([a, x], [b, y]) =>
    x.manifest.time < y.manifest.time ? -1 : x.manifest.time > y.manifest.time ? 1 : a < b ? -1 : 1
  );
  for (const [detailsId, d] of ordered) {
    const bytes = encodeSnapshot(repo.keys.indexKey, { ...d.manifest, details: detailsId });
    const id = sha256Hex(bytes);
    result.snapshots.ids.push(id);
    if (present.has(layout.snapshot(id))) {
      result.snapshots.present++;
      continue;
    }
    await repo.storage.create(layout.snapshot(id), bytes);
    result.snapshots.written++;
  }
}

/** Whether an error says a pack's bytes are bad (as opposed to the store failing). */
function isDamage(err: unknown): boolean {
  return err instanceof Error &&
    (err.name === "FormatError" || err.name === "IntegrityError" || err instanceof RangeError);
}
