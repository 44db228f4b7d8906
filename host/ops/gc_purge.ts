/**
 * `gc purge` (docs/gc.md "Purge", stage 4): the only stage that deletes packs. A plan,
 * then an execute, both admin only.
 *
 * What may go (a **candidate**): a pack object `packs/<id>` (with its hot copy `meta/<id>`) that
 * no segment of the effective index names (docs/format.md §7.1):
 * - **retired**: a superseded segment names it (gc compact copied its live blobs elsewhere, or
 *   found it fully dead);
 * - **orphan**: no segment names it at all (a backup killed between writing a pack and its
 *   segment).
 *
 * Safety, in the order the plan applies it:
 * 1. **Reachability.** The live set is computed afresh from every snapshot now in the store. A
 *    retired pack holding a live blob that no attested pack in the store also holds (a backup
 *    that loaded the index before the compaction deduplicated against it; or a copy only an
 *    unattested segment claims, docs/gc.md "Trust") is **rescued**: execute first writes a
 *    version-1 segment naming it again, so it is back in the effective index and is not deleted.
 *    A live blob that no pack holds at all means the repository is already damaged: the plan
 *    refuses to go on (`check` tells more).
 * 2. **Grace.** A retired pack is deleted only once the segment that retired it is older than
 *    `graceMs`, and an orphan only once it is itself older than that: a backup that is still
 *    running may hold the old index, or be about to write the orphan's segment.
 * 3. **Minimum storage duration.** A pack younger than its class's minimum is billed for the
 *    remaining days whether it is deleted or not: it is listed with the date it becomes free,
 *    unless `acceptEarlyFee`, when it is deleted and its fee shown.
 * 4. **Named again.** Just before it deletes a pack, execute loads the index again (one listing
 *    of `index/`, and the segments new since): a pack a segment now names (a backup rescued it,
 *    or wrote the segment of its new pack, after the plan) is kept.
 * 5. **No new snapshot.** Then it lists `snapshots/`: once a snapshot the plan did not count is
 *    there (a backup committed after the plan: a compaction after its last check may have
 *    retired what it needs, docs/gc.md "Backups running meanwhile"), execute deletes no more
 *    packs nor segments (`keptForNewSnapshots`); the next purge counts that snapshot live.
 *
 * Strays (host/ops/strays.ts), what interrupted writes left that is not an object, are removed
 * once older than `graceMs` (a younger one may be a write under way).
 *
 * The plan reads the retired packs' segments into the in-memory index for its walk, and loads
 * the effective index again before it returns.
 *
 * Execute order (each step one durable store call, so a crash anywhere leaves a consistent
 * repository, and running purge again finishes the job): the rescue segment; then per pack its
 * hot copy, then the pack; then the superseded segments that no longer name any pack still in
 * the store except effective ones, and only those an effective segment supersedes (so none can
 * come back into the effective index); then the strays.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { earlyDeletionItems, remainingDays } from "../cost/delete_cost.ts";
import { round6, toGB } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import { storageItems } from "../cost/store_cost.ts";
import { type IndexedPack, openIndexSegment } from "../repository/index_segment.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import type { Repository, SegmentInfo, SnapshotEntry } from "../repository/repository.ts";
import type { ObjectInfo, StorageClass, Stray } from "../storage/storage.ts";
import { assertAdmin, assertNothingUndecodable } from "./admin_gate.ts";
import { liveBlobs } from "./gc_mark.ts";
import { effectiveRecords } from "./gc_records.ts";
import { listStrays } from "./strays.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default grace: a day, far longer than any backup run should hold a stale index. */
export const DEFAULT_GRACE_MS = DAY_MS;

export interface PurgeOptions {
  table: PriceTable;
  /** Retired packs and orphans younger than this (see the module) are left. */
  graceMs?: number;
  /** Delete packs inside their minimum storage duration too, paying the remaining days. */
  acceptEarlyFee?: boolean;
  /**
   * Whether the store bills minimum storage durations (default true). A plain folder or a
   * SQLite file bills nothing: its packs are never "young".
   */
  minimumDurations?: boolean;
  /** "Now", for tests (default: the store's clock, see `storeNow`). */
  now?: Date;
}

/** A pack that may be deleted, and what deleting it means. */
export interface PurgeCandidate {
  pack: string;
  reason: "retired" | "orphan";
  /** The objects to delete, hot copy first: `meta/<id>` (when present), then `packs/<id>`. */
  objects: string[];
  /** Bytes of all of `objects`. */
  bytes: number;
  storageClass: StorageClass;
  /** The store's time of `packs/<id>`, when it gives one. */
  modified?: string;
  ageDays: number;
  /** The day its minimum storage duration ends (YYYY-MM-DD), when that is still ahead. */
  freeOn?: string;
  /** The early-deletion fee if deleted now. */
  earlyFeeUsd: number;
  /** What keeping it costs a month (storage of every object). */
  monthlyUsd: number;
}

export interface PurgePlan {
  /** Deleted by execute. */
  delete: PurgeCandidate[];
  /** Inside their minimum storage duration (and not accepted): kept, with `freeOn`. */
  young: PurgeCandidate[];
  /** Too recent to be sure no running backup needs them (see `graceMs`). */
  grace: PurgeCandidate[];
  /** Retired packs that still hold live blobs: execute names them again in a new segment. */
  rescue: IndexedPack[];
  /** The snapshots whose blobs the plan counted live (ids). */
  snapshots: string[];
  /** Superseded segments execute deletes after the packs. */
  segments: string[];
  /** Hot copies `meta/<id>` whose cold pack is already gone (a purge stopped midway). */
  strayCopies: string[];
  /** What interrupted writes left (host/ops/strays.ts), older than the grace period. */
  strays: Stray[];
  /** Strays within the grace period: left, as a write may be under way. */
  youngStrays: number;
  /** Why the strays could not be listed (credentials without the permission), else absent. */
  straysRefused?: string;
  bytes: number;
  earlyFeeUsd: number;
  monthlySavingUsd: number;
}

/** Lists the store, computes the live set, and sorts the candidates. Deletes nothing. */
export async function planPurge(repo: Repository, options: PurgeOptions): Promise<PurgePlan> {
  assertAdmin(repo, "gc purge");
  const state = await readStore(repo, options);
  const retired = retiredPacks(state);
  const rescue = await findRescues(state, retired);
  const plan: PurgePlan = {
    delete: [],
    young: [],
    grace: [],
    rescue: [...rescue.values()],
    snapshots: state.snapshots.map((s) => s.id),
    segments: [],
    strayCopies: [],
    strays: [],
    youngStrays: 0,
    bytes: 0,
    earlyFeeUsd: 0,
    monthlySavingUsd: 0,
  };
  sortCandidates(state, retired, rescue, plan);
  planSegments(state, rescue, plan);
  await planStrays(state, plan);
  for (const c of plan.delete) {
    plan.bytes += c.bytes;
    plan.earlyFeeUsd += c.earlyFeeUsd;
    plan.monthlySavingUsd += c.monthlyUsd;
  }
  plan.earlyFeeUsd = round6(plan.earlyFeeUsd);
  plan.monthlySavingUsd = round6(plan.monthlySavingUsd);
  return plan;
}

/** What the plan read of the store, in the order it read it (`readStore`). */
interface PurgeState {
  repo: Repository;
  options: PurgeOptions;
  /** "Now" in ms, by the store's clock unless `options.now`. */
  now: number;
  graceMs: number;
  /** The snapshots counted live: listed before the index. */
  snapshots: SnapshotEntry[];
  /** Every segment loaded, and those an honoured segment supersedes. */
  segments: SegmentInfo[];
  superseded: Set<string>;
  /** The segments of the effective index, and the packs they name. */
  effective: SegmentInfo[];
  effectivePacks: Set<string>;
  /** `meta/<id>` and `packs/<id>` objects, by id. */
  copies: Map<string, ObjectInfo>;
  packs: Map<string, ObjectInfo>;
}

/** The retired packs: which superseded segment names each, and since when it is retired. */
interface Retired {
  by: Map<string, string>;
  since: Map<string, number>;
}

/**
 * Reads, in this order: the store's clock, the snapshots, the index, the hot copies and the
 * packs. Snapshots before the index: a backup writes its segments before its manifest, so
 * every snapshot listed has its blobs in the index loaded next. One committed later is not
 * counted live; what it needs is kept by its backup's guard and by "named again" (execute).
 * Hot copies before packs: a backup writes `packs/<id>` before `meta/<id>`, so a copy listed
 * whose pack is missing from the later listing is truly a stray (docs/format.md §10.5).
 */
async function readStore(repo: Repository, options: PurgeOptions): Promise<PurgeState> {
  const now = options.now?.getTime() ?? await storeNow(repo);
  const snapshots = await repo.snapshots();
  await repo.loadIndex();
  const segments = repo.segments();
  const superseded = repo.supersededSegments();
  const effective = segments.filter((s) => !superseded.has(s.id));
  const listing = async (prefix: string) => {
    const out = new Map<string, ObjectInfo>();
    for (const o of await repo.storage.list(prefix)) {
      if (kindOf(o.name) !== undefined) out.set(idOf(o.name), o);
    }
    return out;
  };
  const copies = await listing(layout.prefixes.meta);
  const packs = await listing(layout.prefixes.pack);
  return {
    repo,
    options,
    now,
    graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    snapshots,
    segments,
    superseded,
    effective,
    // The effective packs: those a segment no honoured segment supersedes names.
    effectivePacks: new Set(effective.flatMap((s) => s.packs)),
    copies,
    packs,
  };
}

/** The store's time of an object in ms; undefined when it gives none (then: too young). */
function timeOf(o: { modified?: string }): number | undefined {
  const t = o.modified ? Date.parse(o.modified) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Which superseded segment names each retired pack, and since when it is retired. A segment
 * is superseded since the earliest honoured segment that supersedes it was written (unknown:
 * now); a pack is retired since the *last* of the segments naming it was superseded (it stayed
 * effective until then).
 */
function retiredPacks(state: PurgeState): Retired {
  const { segments, superseded, effectivePacks, now } = state;
  const by = new Map<string, string>();
  const since = new Map<string, number>();
  for (const s of segments) {
    if (!superseded.has(s.id)) continue;
    for (const p of s.packs) if (!effectivePacks.has(p)) by.set(p, s.id);
  }
  const supersededAt = new Map<string, number>();
  for (const s of segments) {
    const t = timeOf(s) ?? now;
    for (const old of s.supersedes) {
      supersededAt.set(old, Math.min(supersededAt.get(old) ?? Infinity, t));
    }
  }
  for (const s of segments) {
    if (!superseded.has(s.id)) continue;
    const t = supersededAt.get(s.id) ?? now;
    for (const p of s.packs) {
      if (by.has(p)) since.set(p, Math.max(since.get(p) ?? -Infinity, t));
    }
  }
  return { by, since };
}

/**
 * 1. Reachability: the retired packs to rescue, by id. The retired packs still in the store
 * join the in-memory index after the effective ones (whose locations therefore win), so the
 * walk can read a tree that only a retired metadata pack holds; a retired pack holding a live
 * blob with no attested copy is rescued. Throws when a live blob is in no pack at all.
 */
async function findRescues(state: PurgeState, retired: Retired): Promise<Map<string, IndexedPack>> {
  const { repo, packs, effectivePacks } = state;
  const retiredRecords = new Map<string, IndexedPack>();
  for (const segmentId of new Set(retired.by.values())) {
    const bytes = await repo.storage.read(layout.index(segmentId));
    for (const p of openIndexSegment(repo.keys.indexKey, bytes).packs) {
      if (packs.has(p.pack) && !effectivePacks.has(p.pack)) retiredRecords.set(p.pack, p);
    }
  }
  let lost = 0;
  let example = "";
  repo.index.add([...retiredRecords.values()]);
  let live: Set<string>;
  try {
    live = await liveBlobs(repo, state.snapshots);
    assertNothingUndecodable(repo, "gc purge"); // else their data would look dead
    for (const id of live) {
      if (repo.index.get(id) === undefined) {
        lost++;
        example ||= id;
      }
    }
  } finally {
    await repo.reloadIndex(); // the effective index again, for whoever uses `repo` next
  }
  // A retired pack may go only if every live blob it holds has a copy in an attested pack that
  // is in the store (docs/gc.md "Trust": an ingest client can write segments claiming any
  // pack holds any blob). Otherwise it is rescued.
  const trusted = new Set<string>();
  for (const s of await effectiveRecords(repo)) {
    for (const p of s.packs) {
      if (p.attested && packs.has(p.pack)) { for (const b of p.blobs) trusted.add(b.id); }
    }
  }
  const rescue = new Map<string, IndexedPack>();
  for (const record of retiredRecords.values()) {
    if (record.blobs.some((b) => live.has(b.id) && !trusted.has(b.id))) {
      rescue.set(record.pack, record);
    }
  }
  if (lost > 0) {
    throw new ObjectNotFound(
      `${lost} blobs that snapshots reference are in no pack (e.g. "${example}"): the ` +
        "repository is damaged, and gc purge deletes nothing until `permafrost check` is clean",
    );
  }
  return rescue;
}

/**
 * Sorts every pack out of the effective index and not rescued into `delete`, `young` or
 * `grace` (2. grace, 3. minimum storage duration), and lists the hot copies left without their
 * pack (`strayCopies`).
 */
function sortCandidates(
  state: PurgeState,
  retired: Retired,
  rescue: ReadonlyMap<string, IndexedPack>,
  plan: PurgePlan,
): void {
  const { packs, copies, effectivePacks, now, graceMs } = state;
  for (const [id, o] of packs) {
    if (effectivePacks.has(id) || rescue.has(id)) continue;
    const reason = retired.by.has(id) ? "retired" : "orphan";
    const candidate = purgeCandidate(state, id, o, reason);
    const modified = timeOf(o);
    const since = reason === "retired" ? retired.since.get(id) ?? now : modified ?? now;
    if (now - since < graceMs) plan.grace.push(candidate);
    else if (candidate.freeOn !== undefined && !state.options.acceptEarlyFee) {
      plan.young.push(candidate);
    } else plan.delete.push(candidate);
  }
  for (const [id, copy] of copies) {
    const young = now - (timeOf(copy) ?? now) < graceMs; // a backup may be writing its pack
    if (!packs.has(id) && !effectivePacks.has(id) && !young) {
      plan.strayCopies.push(layout.metaCopy(id));
    }
  }
}

/** A pack that may be deleted (`o` is `packs/<id>`), with its age, fee and monthly cost. */
function purgeCandidate(
  state: PurgeState,
  id: string,
  o: ObjectInfo,
  reason: PurgeCandidate["reason"],
): PurgeCandidate {
  const { repo, now, options: { table } } = state;
  const modified = timeOf(o);
  const copy = state.copies.get(id);
  const storageClass = o.storageClass ?? repo.config.cold.storageClass;
  // No store time: taken as written now (too young), never as old enough.
  const ageDays = Math.max(0, Math.floor((now - (modified ?? now)) / DAY_MS));
  const remaining = state.options.minimumDurations !== false
    ? remainingDays(ageDays, storageClass, table)
    : 0;
  const gb = toGB(o.size, table);
  const fee = remaining === 0
    ? 0
    : earlyDeletionItems(gb, ageDays, storageClass, table).reduce((s, i) => s + i.usd, 0);
  return {
    pack: id,
    reason,
    objects: [...(copy ? [layout.metaCopy(id)] : []), layout.pack(id)],
    bytes: o.size + (copy?.size ?? 0),
    storageClass,
    ...(o.modified ? { modified: o.modified } : {}),
    ageDays,
    ...(remaining > 0
      ? { freeOn: new Date(now + remaining * DAY_MS).toISOString().slice(0, 10) }
      : {}),
    earlyFeeUsd: round6(fee),
    monthlyUsd: round6(
      monthly(gb, storageClass, table) +
        (copy ? monthly(toGB(copy.size, table), "STANDARD", table) : 0),
    ),
  };
}

/**
 * Superseded segments that can go once the deletions are done: every pack they name is then
 * effective or gone, and an effective segment supersedes them (so they cannot come back).
 */
function planSegments(
  state: PurgeState,
  rescue: ReadonlyMap<string, IndexedPack>,
  plan: PurgePlan,
): void {
  const { segments, superseded, effective, effectivePacks, packs } = state;
  const deleting = new Set(plan.delete.map((c) => c.pack));
  const supersededByEffective = new Set(effective.flatMap((s) => s.supersedes));
  for (const s of segments) {
    if (!superseded.has(s.id) || !supersededByEffective.has(s.id)) continue;
    const done = s.packs.every((p) => effectivePacks.has(p) || deleting.has(p) || !packs.has(p));
    if (done && !s.packs.some((p) => rescue.has(p))) plan.segments.push(layout.index(s.id));
  }
}

/** Lists the strays: those older than the grace period are removed, the others counted. */
async function planStrays(state: PurgeState, plan: PurgePlan): Promise<void> {
  const strays = await listStrays(state.repo.storage);
  if (strays.refused !== undefined) plan.straysRefused = strays.refused;
  for (const s of strays.strays) {
    if (state.now - (timeOf(s) ?? state.now) < state.graceMs) plan.youngStrays++;
    else plan.strays.push(s);
  }
}

/** What execute did. */
export interface PurgeResult {
  rescued: number;
  deletedPacks: number;
  deletedObjects: number;
  deletedSegments: number;
  bytes: number;
  /** Planned packs kept because a segment named them by the time they were due. */
  namedAgain: number;
  /**
   * Planned packs kept because a snapshot the plan did not count was committed meanwhile (its
   * blobs were not counted live); superseded segments are then kept too. Run purge again.
   */
  keptForNewSnapshots: number;
  removedStrays: number;
  strayBytes: number;
}

/**
 * Carries out a plan in the crash-safe order of the module comment. `onStep` is called after
 * every store call with the object written or deleted (progress; tests stop the run there).
 */
export async function executePurge(
  repo: Repository,
  plan: PurgePlan,
  onStep: (what: "rescued" | "deleted", name: string) => void | Promise<void> = () => {},
): Promise<PurgeResult> {
  assertAdmin(repo, "gc purge");
  const result: PurgeResult = {
    rescued: 0,
    deletedPacks: 0,
    deletedObjects: 0,
    deletedSegments: 0,
    bytes: 0,
    namedAgain: 0,
    keptForNewSnapshots: 0,
    removedStrays: 0,
    strayBytes: 0,
  };
  if (plan.rescue.length > 0) {
    const name = layout.index(await repo.writeSegment(plan.rescue));
    result.rescued = plan.rescue.length;
    await onStep("rescued", name);
  }
  for (const name of plan.strayCopies) {
    await repo.storage.delete(name);
    result.deletedObjects++;
    await onStep("deleted", name);
  }
  const counted = new Set(plan.snapshots);
  for (const [i, c] of plan.delete.entries()) {
    // The plan is as old as its walk of every snapshot: a backup may have named the pack since,
    // or committed a snapshot that needs it. The index first, then the snapshots: a backup
    // writes its segments before its manifest.
    await repo.loadIndex();
    if (repo.index.pack(c.pack) !== undefined) {
      result.namedAgain++;
      continue;
    }
    if (await snapshotSince(repo, counted)) {
      result.keptForNewSnapshots = plan.delete.length - i;
      break;
    }
    for (const name of c.objects) {
      await repo.storage.delete(name);
      result.deletedObjects++;
      await onStep("deleted", name);
    }
    result.deletedPacks++;
    result.bytes += c.bytes;
  }
  // A superseded segment may name a pack kept above: it stays for the next purge.
  for (const name of result.keptForNewSnapshots > 0 ? [] : plan.segments) {
    await repo.storage.delete(name);
    result.deletedSegments++;
    await onStep("deleted", name);
  }
  for (const s of plan.strays) {
    await repo.storage.removeStray(s.name);
    result.removedStrays++;
    result.strayBytes += s.size;
    await onStep("deleted", s.name);
  }
  return result;
}

/** Whether `snapshots/` holds a snapshot that is not among `counted`. */
async function snapshotSince(repo: Repository, counted: ReadonlySet<string>): Promise<boolean> {
  return (await repo.storage.list(layout.prefixes.snapshot)).some((o) =>
    kindOf(o.name) === "snapshot" && !counted.has(idOf(o.name))
  );
}

/**
 * "Now" by the store's clock, which stamped every object purge compares it with: this machine's
 * clock, ahead by a day, would make every pack look a day older and skip the grace period. It
 * writes and deletes a probe outside the layout (`gc-probe/<random>`, STANDARD); a store that
 * gives no time leaves this machine's clock.
 */
async function storeNow(repo: Repository): Promise<number> {
  const name = `gc-probe/${crypto.randomUUID()}`;
  await repo.storage.create(name, new Uint8Array(1), { storageClass: "STANDARD" });
  try {
    const t = Date.parse((await repo.storage.stat(name))?.modified ?? "");
    return Number.isNaN(t) ? Date.now() : t;
  } finally {
    await repo.storage.delete(name);
  }
}

/** What `gb` costs a month in `storageClass`. */
function monthly(gb: number, storageClass: StorageClass, table: PriceTable): number {
  return storageItems(gb, 1, storageClass, table).reduce((sum, item) => sum + item.usd, 0);
}
