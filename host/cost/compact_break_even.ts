/**
 * Whether compacting packs pays (docs/cost-model.md §13.1-§13.4): {@link compactBreakEven} for
 * one pack, both sides itemised, and {@link chooseCompaction} for many, best first.
 *
 * @module
 */

import type { StorageClass } from "../storage/storage.ts";
import { type Assumptions, daysToMonths, defaultAssumptions } from "./assumptions.ts";
import {
  checkCompactPack,
  compactJobHours,
  type CompactOptions,
  type CompactPack,
  compactReadItems,
  needsRestore,
  prefixed,
  resolveCompactOptions,
  type ResolvedCompactOptions,
  restoreTierFor,
} from "./compact_cost.ts";
import { earlyDeletionItems, remainingDays } from "./delete_cost.ts";
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
import { archiveOverheadItems, minimumDurationItems, putItems } from "./store_cost.ts";

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
  o: ResolvedCompactOptions;
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
  checkCompactPack(pack);
  const o = resolveCompactOptions(options);
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
    ...prefixed("old pack: ", archiveOverheadItems(1, daysToMonths(savedDays, a), cls, table)),
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
  const tier = restoreTierFor(cls, options, table);
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
    ...compactReadItems(
      pack.bytes,
      pack.bytes + pack.liveBytes,
      o.to,
      options.freeEgressGB,
      table,
      a,
    ),
  );
  hours = addHours(hours, compactJobHours(pack.bytes + pack.liveBytes, o.to, a));
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
    ...prefixed("new packs: ", putItems(newObjects, packSize, newClass, table, a.upload)),
  ];
  if (pack.metadata) {
    items.push(
      ...prefixed("new hot copies: ", putItems(newObjects, packSize, "STANDARD", table, a.upload)),
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
    ...prefixed("new packs: ", [
      ...archiveOverheadItems(newObjects, o.horizonMonths, newClass, table),
      ...minimumDurationItems(liveGB, o.horizonMonths, newClass, table, a),
    ]),
  );
  return items;
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
