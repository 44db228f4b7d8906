/**
 * Compaction: when repacking a pack's live blobs pays for itself (docs/cost-model.md §13,
 * docs/gc.md "Compact"). Repacking restores a pack, reads it, and writes its live bytes into new
 * packs; the old pack is deleted later by `purge`, once its minimum storage duration is over.
 * Over a horizon of months that pays only when what the dead bytes would have cost exceeds the
 * restore, the read, the new PUTs, the overlap (the live bytes stored twice until the old pack
 * goes) and the new packs' own per-object overhead.
 *
 * Three entry points:
 * - {@link compactBreakEven}: one pack, both sides itemised as {@link Estimate}s;
 * - {@link chooseCompaction}: which of many packs pay for themselves, best first;
 * - {@link estimateCompact}: what `gc compact` spends on a chosen set (restore, reads, PUTs, the
 *   new packs' minimum duration) and how long it takes.
 *
 * A fully dead pack (no live bytes) needs no restore: it costs nothing to "compact", it just
 * becomes purgeable. A metadata pack also has a hot STANDARD copy (`meta/<id>`): its dead bytes
 * are billed twice (cold and hot), and its live blobs are read from the hot copy without a
 * restore.
 *
 * @module
 */

import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import {
  type Assumptions,
  daysToMonths,
  defaultAssumptions,
  transferHours,
} from "./assumptions.ts";
import { fargateItems } from "./fargate.ts";
import { earlyDeletionItems, remainingDays } from "./delete_cost.ts";
import { type Destination, egressItems } from "./egress.ts";
import {
  addHours,
  type Estimate,
  estimate,
  type HoursRange,
  type LineItem,
  noTime,
  round6,
  tieredItems,
  toGB,
} from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import { rebuildDays } from "./rebuild_cost.ts";
import { getItem, restoredCopyItems, restoreHours, retrievalItems } from "./restore_cost.ts";
import {
  archiveOverheadItems,
  minimumDurationItems,
  putItems,
  storageItems,
} from "./store_cost.ts";

const MiB = 2 ** 20;

/** One pack `gc mark` found with dead bytes. */
export interface CompactPack {
  /** The pack's id, carried into the results (not priced). */
  id?: string;
  /** The class of its cold copy (`packs/<id>`). */
  storageClass: StorageClass;
  /** The object's size. */
  bytes: number;
  /** Bytes of blobs some snapshot still needs: written again into new packs. */
  liveBytes: number;
  /** Bytes of blobs no snapshot needs. `liveBytes + deadBytes` ≤ `bytes` (the rest: header, table). */
  deadBytes: number;
  /** Days since the pack was written (its class's minimum duration counts from then). */
  ageDays: number;
  /** A metadata pack, which also has a hot STANDARD copy (`meta/<id>`) of the same bytes. */
  metadata?: boolean;
}

export interface CompactOptions {
  /** Where the packs are read: at home (internet egress) or by a job in the region (§6.2). */
  to: Destination;
  /** The horizon (default {@link defaultHorizonMonths}). */
  horizonMonths?: number;
  /** The restore tier of archived packs (default `bulk`, as for a rebuild, §6.1). */
  tier?: RestoreTier;
  /** Days restored copies stay (default: long enough for the read, at least 3; §6.1). */
  days?: number;
  /** Days after the compaction before `purge` may delete what it superseded (default 0). */
  graceDays?: number;
  /**
   * Delete the old packs after the grace even inside their minimum duration, paying the
   * early-deletion fee (§5.1), instead of waiting for it to run out. The decision is the same
   * either way (the fee equals the storage it replaces); only the itemisation differs.
   */
  acceptEarlyFee?: boolean;
  /** The size of the new data packs (default 64 MiB, the repository default). */
  packBytes?: number;
  /** The size of the new metadata packs (default 8 MiB, the repository default). */
  metaPackBytes?: number;
  /** The class of the new packs (default: each old pack's class). */
  newClass?: StorageClass;
  /** Free internet egress left this month, in GB (default: the table's allowance; see below). */
  freeEgressGB?: number;
}

/**
 * §13.6 The default horizon: 12 months. Twice Deep Archive's 180-day minimum, so the new packs'
 * minimum duration lies inside it and is not counted as a cost beyond it; the twelve months
 * `permafrost cost` projects (§11.3); and short enough that "live stays live, dead stays dead,
 * prices stay" is a fair guess. A longer horizon only ever favours compaction (the saving grows
 * with it, the costs are one-off), so the default errs on the side of not spending.
 */
export const defaultHorizonMonths = 12;

/** The decision for one pack: both sides itemised, and whether the saving beats the cost. */
export interface CompactBreakEven {
  pack: CompactPack;
  /** `purge`: fully dead, nothing to repack; `repack`: live blobs to write again. */
  kind: "purge" | "repack";
  /** What deleting the old pack saves within the horizon (no time: `hours` is 0). */
  saving: Estimate;
  /** What repacking costs, and how long it takes (restore tier, then the job). */
  cost: Estimate;
  /** `saving.total_usd − cost.total_usd`. */
  net_usd: number;
  /** True iff the saving is more than the cost. */
  worthIt: boolean;
  /** Days from now until the old cold copy is deleted (purge, or the early fee accepted). */
  deleteAfterDays: number;
}

interface Resolved {
  to: Destination;
  horizonMonths: number;
  graceDays: number;
  acceptEarlyFee: boolean;
  packBytes: number;
  metaPackBytes: number;
}

function resolve(o: CompactOptions): Resolved {
  const horizonMonths = o.horizonMonths ?? defaultHorizonMonths;
  if (!(horizonMonths > 0) || !Number.isFinite(horizonMonths)) {
    throw new RangeError(`the compaction horizon must be more than 0 months, not ${horizonMonths}`);
  }
  const graceDays = o.graceDays ?? 0;
  if (!(graceDays >= 0)) throw new RangeError(`grace days must be 0 or more, not ${graceDays}`);
  const packBytes = o.packBytes ?? 64 * MiB;
  const metaPackBytes = o.metaPackBytes ?? 8 * MiB;
  if (!(packBytes > 0) || !(metaPackBytes > 0)) {
    throw new RangeError("new pack sizes must be more than 0 bytes");
  }
  return {
    to: o.to,
    horizonMonths,
    graceDays,
    acceptEarlyFee: o.acceptEarlyFee === true,
    packBytes,
    metaPackBytes,
  };
}

function checkPack(p: CompactPack): void {
  const name = p.id === undefined ? "a pack" : `pack "${p.id}"`;
  for (const [field, v] of Object.entries({ bytes: p.bytes, liveBytes: p.liveBytes })) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name}: ${field} must be ≥ 0`);
  }
  if (!(p.deadBytes >= 0) || !(p.ageDays >= 0)) {
    throw new RangeError(`${name}: deadBytes and ageDays must be ≥ 0`);
  }
  if (p.liveBytes + p.deadBytes > p.bytes) {
    throw new RangeError(
      `${name}: live (${p.liveBytes}) and dead (${p.deadBytes}) bytes exceed its size (${p.bytes})`,
    );
  }
}

/** The tier archived packs of `storageClass` are restored at: the given one, else bulk. */
function tierFor(storageClass: StorageClass, o: CompactOptions, table: PriceTable) {
  return table.rules.classes[storageClass].archived ? o.tier ?? "bulk" : undefined;
}

/** Whether the pack's live blobs must come from its cold copy through a restore. */
function needsRestore(p: CompactPack, table: PriceTable): boolean {
  return p.liveBytes > 0 && !p.metadata && table.rules.classes[p.storageClass].archived;
}

/**
 * §13.2 One pack: what deleting it saves within the horizon, against what repacking its live
 * bytes costs. `freeEgressGB` defaults to the table's allowance, as for a single restore;
 * {@link chooseCompaction} judges each pack at the margin instead. Steps: the case and its
 * dates ({@link breakEvenCase}), the saving ({@link savingItems}), and for a pack with live
 * bytes the read ({@link repackReadCost}) and the write ({@link repackWriteItems}).
 */
export function compactBreakEven(
  pack: CompactPack,
  table: PriceTable,
  options: CompactOptions,
  a: Assumptions = defaultAssumptions,
): CompactBreakEven {
  const c = breakEvenCase(pack, table, options, a);
  const repack = pack.liveBytes > 0;
  const cost: LineItem[] = [];
  let hours: HoursRange = noTime;
  if (repack) {
    const read = repackReadCost(c);
    cost.push(...read.items, ...repackWriteItems(c));
    hours = read.hours;
  }
  if (c.o.acceptEarlyFee) {
    cost.push(...earlyDeletionItems(c.gb, pack.ageDays + c.o.graceDays, c.cls, table, a));
  }
  const s = estimate(table, savingItems(c), noTime);
  const k = estimate(table, cost, hours);
  const net = round6(s.total_usd - k.total_usd);
  return {
    pack,
    kind: repack ? "repack" : "purge",
    saving: s,
    cost: k,
    net_usd: net,
    worthIt: s.total_usd > k.total_usd,
    deleteAfterDays: c.coldGone,
  };
}

/** One pack's case, checked and resolved: what each step of {@link compactBreakEven} reads. */
interface BreakEvenCase {
  pack: CompactPack;
  table: PriceTable;
  options: CompactOptions;
  o: Resolved;
  a: Assumptions;
  /** The old pack's class, and the new packs'. */
  cls: StorageClass;
  newClass: StorageClass;
  horizonDays: number;
  /** The pack's size, live and dead bytes, in the table's GB. */
  gb: number;
  liveGB: number;
  deadGB: number;
  /** Days from now until the old cold copy goes, and the old hot copy. */
  coldGone: number;
  hotGone: number;
}

/**
 * Checks the pack and options and works out §13.1 when the old copies go: the cold one at the
 * end of its minimum duration (or after the grace, paying the fee for the rest), the hot one
 * (no minimum) after the grace.
 */
function breakEvenCase(
  pack: CompactPack,
  table: PriceTable,
  options: CompactOptions,
  a: Assumptions,
): BreakEvenCase {
  checkPack(pack);
  const o = resolve(options);
  const cls = pack.storageClass;
  const remaining = remainingDays(pack.ageDays, cls, table);
  return {
    pack,
    table,
    options,
    o,
    a,
    cls,
    newClass: options.newClass ?? cls,
    horizonDays: o.horizonMonths * a.daysPerMonth,
    gb: toGB(pack.bytes, table),
    liveGB: toGB(pack.liveBytes, table),
    deadGB: toGB(pack.deadBytes, table),
    coldGone: o.acceptEarlyFee ? o.graceDays : Math.max(remaining, o.graceDays),
    hotGone: o.graceDays,
  };
}

/**
 * The saving: the dead bytes no longer stored from when the old cold copy goes to the end of
 * the horizon, with the old pack's per-object overhead; for a metadata pack, also its hot copy's
 * dead bytes from when that goes.
 */
function savingItems(c: BreakEvenCase): LineItem[] {
  const { table, cls, a } = c;
  const savedDays = Math.max(0, c.horizonDays - c.coldGone);
  const savedHotDays = Math.max(0, c.horizonDays - c.hotGone);
  const saving: LineItem[] = [
    ...tieredItems(
      `dead bytes no longer stored, ${cls}, ${round6(savedDays)} days of the horizon`,
      c.deadGB,
      table.storage_gb_month[cls],
      "GB-month",
      daysToMonths(savedDays, a),
    ),
    ...named("old pack: ", archiveOverheadItems(1, daysToMonths(savedDays, a), cls, table)),
  ];
  if (c.pack.metadata) {
    saving.push(...tieredItems(
      `dead bytes no longer stored, hot copy (STANDARD), ${round6(savedHotDays)} days`,
      c.deadGB,
      table.storage_gb_month.STANDARD,
      "GB-month",
      daysToMonths(savedHotDays, a),
    ));
  }
  return saving;
}

/**
 * Reading the live blobs: a restore of the cold copy (retrieval, the restored copy, the GET)
 * when it is archived, a GET of the hot copy for a metadata pack, else a direct read; then the
 * bytes leaving S3 (or the in-region job). Time: the restore tier's, then the job's.
 */
function repackReadCost(c: BreakEvenCase): { items: LineItem[]; hours: HoursRange } {
  const { pack, table, options, o, a, cls, gb } = c;
  const items: LineItem[] = [];
  let hours: HoursRange = noTime;
  const tier = tierFor(cls, options, table);
  if (needsRestore(pack, table)) {
    items.push(
      ...retrievalItems(gb, 1, cls, tier, table),
      ...restoredCopyItems(gb, options.days ?? rebuildDays(pack.bytes, o.to, a), cls, table, a),
      getItem(1, cls, table),
    );
    hours = restoreHours(cls, tier, table);
  } else if (pack.metadata) {
    items.push(getItem(1, "STANDARD", table));
  } else {
    items.push(...retrievalItems(gb, 1, cls, undefined, table), getItem(1, cls, table));
  }
  items.push(
    ...readItems(pack.bytes, pack.bytes + pack.liveBytes, o.to, options.freeEgressGB, table, a),
  );
  hours = addHours(hours, jobHours(pack.bytes + pack.liveBytes, o.to, a));
  return { items, hours };
}

/**
 * Writing the live blobs: the new packs' PUTs (and their hot copies' for a metadata pack), the
 * live bytes stored twice until each old copy goes (within the horizon), and the new packs'
 * per-object overhead and minimum duration over the horizon.
 */
function repackWriteItems(c: BreakEvenCase): LineItem[] {
  const { pack, table, o, a, newClass, liveGB, horizonDays } = c;
  const packSize = pack.metadata ? o.metaPackBytes : o.packBytes;
  const newObjects = pack.liveBytes / packSize;
  const items: LineItem[] = [
    ...named("new packs: ", putItems(newObjects, packSize, newClass, table, a.upload)),
  ];
  if (pack.metadata) {
    items.push(
      ...named("new hot copies: ", putItems(newObjects, packSize, "STANDARD", table, a.upload)),
    );
  }
  const twice = (until: number, what: string, cls: StorageClass) => {
    const days = Math.min(until, horizonDays);
    return tieredItems(
      `live bytes stored twice until the old ${what} goes, ${round6(days)} days`,
      liveGB,
      table.storage_gb_month[cls],
      "GB-month",
      daysToMonths(days, a),
    );
  };
  if (c.coldGone > 0) items.push(...twice(c.coldGone, "pack", newClass));
  if (pack.metadata && c.hotGone > 0) items.push(...twice(c.hotGone, "hot copy", "STANDARD"));
  items.push(
    ...named("new packs: ", [
      ...archiveOverheadItems(newObjects, o.horizonMonths, newClass, table),
      ...minimumDurationItems(liveGB, o.horizonMonths, newClass, table, a),
    ]),
  );
  return items;
}

/** §13.3 Egress of the bytes read (or the free in-region transfer and the job's compute). */
function readItems(
  readBytes: number,
  jobBytes: number,
  to: Destination,
  freeEgressGB: number | undefined,
  table: PriceTable,
  a: Assumptions,
): LineItem[] {
  return [
    ...egressItems(toGB(readBytes, table), to, table, freeEgressGB),
    ...(to === "region" ? fargateItems(jobHours(jobBytes, to, a).max, a.job, table) : []),
  ];
}

/** §13.3 The job's time: reading the packs and writing the live bytes, at the place's rate. */
function jobHours(bytes: number, to: Destination, a: Assumptions): HoursRange {
  return transferHours(bytes, to === "internet" ? a.internetMbitPerS : a.regionMbitPerS);
}

/** What {@link chooseCompaction} returns: both lists best first (highest net saving). */
export interface CompactionChoice {
  /** Packs whose saving beats their cost: repack these (fully dead ones just await purge). */
  worthIt: CompactBreakEven[];
  notWorthIt: CompactBreakEven[];
  /** The sum of `net_usd` over `worthIt`. */
  net_usd: number;
}

/**
 * §13.4 Which `candidates` pay for themselves, sorted by net saving (highest first). Each pack
 * is judged at the margin: internet egress without the monthly allowance (the set shares one
 * allowance, and other traffic uses it too) unless `options.freeEgressGB` says otherwise.
 */
export function chooseCompaction(
  candidates: CompactPack[],
  table: PriceTable,
  options: CompactOptions,
  a: Assumptions = defaultAssumptions,
): CompactionChoice {
  const margin = { ...options, freeEgressGB: options.freeEgressGB ?? 0 };
  const all = candidates.map((p) => compactBreakEven(p, table, margin, a))
    .sort((x, y) => y.net_usd - x.net_usd);
  const worthIt = all.filter((d) => d.worthIt);
  return {
    worthIt,
    notWorthIt: all.filter((d) => !d.worthIt),
    net_usd: round6(worthIt.reduce((sum, d) => sum + d.net_usd, 0)),
  };
}

/**
 * §13.5 What `gc compact` spends on `packs` before acting: per class, the restore of the cold
 * packs with live bytes (requests, retrieval, restored copies) and their GETs; GETs of the
 * metadata packs' hot copies; the bytes read leaving S3 once (or the in-region job's compute);
 * the new packs' PUTs and storage for their class's minimum duration (the first month and the
 * rest, as a backup commits to, §10.1), with hot copies of new metadata packs for a month.
 * Fully dead packs add nothing. Nothing is deleted here (purge does that later), so no
 * early-deletion fee. Time: the slowest restore tier, then reading and writing.
 */
export function estimateCompact(
  packs: CompactPack[],
  table: PriceTable,
  options: CompactOptions,
  a: Assumptions = defaultAssumptions,
): Estimate {
  packs.forEach(checkPack);
  const o = resolve(options);
  const repack = packs.filter((p) => p.liveBytes > 0);
  const readBytes = repack.reduce((sum, p) => sum + p.bytes, 0);
  const liveBytes = repack.reduce((sum, p) => sum + p.liveBytes, 0);
  const days = options.days ?? rebuildDays(readBytes, o.to, a);
  const items: LineItem[] = [];
  let restore: HoursRange = noTime;

  // Reads, per class of the old packs.
  for (const cls of classesOf(repack)) {
    const restored = repack.filter((p) => p.storageClass === cls && needsRestore(p, table));
    if (restored.length > 0) {
      const gb = toGB(sum(restored, "bytes"), table);
      const tier = tierFor(cls, options, table);
      items.push(
        ...retrievalItems(gb, restored.length, cls, tier, table),
        ...restoredCopyItems(gb, days, cls, table, a),
        getItem(restored.length, cls, table),
      );
      const h = restoreHours(cls, tier, table);
      restore = { min: Math.max(restore.min, h.min), max: Math.max(restore.max, h.max) };
    }
    const direct = repack.filter((p) =>
      p.storageClass === cls && !p.metadata && !table.rules.classes[cls].archived
    );
    if (direct.length > 0) {
      items.push(
        ...retrievalItems(toGB(sum(direct, "bytes"), table), direct.length, cls, undefined, table),
        getItem(direct.length, cls, table),
      );
    }
  }
  const hot = repack.filter((p) => p.metadata).length;
  if (hot > 0) items.push(getItem(hot, "STANDARD", table));
  items.push(...readItems(readBytes, readBytes + liveBytes, o.to, options.freeEgressGB, table, a));

  // Writes: new packs per class, data and metadata apart.
  const target = (p: CompactPack) => options.newClass ?? p.storageClass;
  for (const cls of new Set(repack.map(target))) {
    const of = repack.filter((p) => target(p) === cls);
    for (const metadata of [false, true]) {
      const bytes = sum(of.filter((p) => (p.metadata === true) === metadata), "liveBytes");
      if (bytes === 0) continue;
      const size = metadata ? o.metaPackBytes : o.packBytes;
      const objects = Math.ceil(bytes / size);
      const gb = toGB(bytes, table);
      const what = metadata ? "new metadata packs: " : "new packs: ";
      items.push(...named(what, [
        ...putItems(objects, bytes / objects, cls, table, a.upload),
        ...storageItems(gb, 1, cls, table),
        ...archiveOverheadItems(objects, 1, cls, table),
        ...minimumDurationItems(gb, 1, cls, table, a),
      ]));
      if (metadata) {
        items.push(...named("their hot copies: ", [
          ...putItems(objects, bytes / objects, "STANDARD", table, a.upload),
          ...storageItems(gb, 1, "STANDARD", table),
        ]));
      }
    }
  }
  return estimate(table, items, addHours(restore, jobHours(readBytes + liveBytes, o.to, a)));
}

/** The same lines, each `what` prefixed (old and new objects' lines would read alike). */
function named(prefix: string, items: LineItem[]): LineItem[] {
  return items.map((item) => ({ ...item, what: prefix + item.what }));
}

function classesOf(packs: { storageClass: StorageClass }[]): StorageClass[] {
  return [...new Set(packs.map((p) => p.storageClass))];
}

function sum(packs: CompactPack[], field: "bytes" | "liveBytes"): number {
  return packs.reduce((total, p) => total + p[field], 0);
}
