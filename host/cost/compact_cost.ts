/**
 * Compaction: when repacking a pack's live blobs pays for itself (docs/cost-model.md §13,
 * docs/gc.md "Compact"). Repacking restores a pack, reads it, and writes its live bytes into new
 * packs; the old pack is deleted later by `purge`, once its minimum storage duration is over.
 * Over a horizon of months that pays only when what the dead bytes would have cost exceeds the
 * restore, the read, the new PUTs, the overlap (the live bytes stored twice until the old pack
 * goes) and the new packs' own per-object overhead.
 *
 * This file holds what compaction is priced from ({@link CompactPack}, {@link CompactOptions},
 * the default horizon) and the pricing both entry points share; the entry points are:
 * - `compactBreakEven` (compact_break_even.ts): one pack, both sides itemised as `Estimate`s;
 * - `chooseCompaction` (compact_break_even.ts): which of many packs pay for themselves, best
 *   first;
 * - `estimateCompact` (compact_estimate.ts): what `gc compact` spends on a chosen set (restore,
 *   reads, PUTs, the new packs' minimum duration) and how long it takes.
 *
 * A fully dead pack (no live bytes) needs no restore: it costs nothing to "compact", it just
 * becomes purgeable. A metadata pack also has a hot STANDARD copy (`meta/<id>`): its dead bytes
 * are billed twice (cold and hot), and its live blobs are read from the hot copy without a
 * restore.
 *
 * @module
 */

import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { type Assumptions, transferHours } from "./assumptions.ts";
import { fargateItems } from "./fargate.ts";
import { type Destination, egressItems } from "./egress.ts";
import { type HoursRange, type LineItem, toGB } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

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

/** {@link CompactOptions} checked, with their defaults. */
export interface ResolvedCompactOptions {
  to: Destination;
  horizonMonths: number;
  graceDays: number;
  acceptEarlyFee: boolean;
  packBytes: number;
  metaPackBytes: number;
}

/** `o` with its defaults; a `RangeError` for a horizon, grace or new pack size out of range. */
export function resolveCompactOptions(o: CompactOptions): ResolvedCompactOptions {
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

/**
 * A `RangeError` naming the pack unless its sizes and age are 0 or more and its live and dead
 * bytes fit in its size.
 */
export function checkCompactPack(p: CompactPack): void {
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
export function restoreTierFor(storageClass: StorageClass, o: CompactOptions, table: PriceTable) {
  return table.rules.classes[storageClass].archived ? o.tier ?? "bulk" : undefined;
}

/** Whether the pack's live blobs must come from its cold copy through a restore. */
export function needsRestore(p: CompactPack, table: PriceTable): boolean {
  return p.liveBytes > 0 && !p.metadata && table.rules.classes[p.storageClass].archived;
}

/** §13.3 Egress of the bytes read (or the free in-region transfer and the job's compute). */
export function compactReadItems(
  readBytes: number,
  jobBytes: number,
  to: Destination,
  freeEgressGB: number | undefined,
  table: PriceTable,
  a: Assumptions,
): LineItem[] {
  return [
    ...egressItems(toGB(readBytes, table), to, table, freeEgressGB),
    ...(to === "region" ? fargateItems(compactJobHours(jobBytes, to, a).max, a.job, table) : []),
  ];
}

/** §13.3 The job's time: reading the packs and writing the live bytes, at the place's rate. */
export function compactJobHours(bytes: number, to: Destination, a: Assumptions): HoursRange {
  return transferHours(bytes, to === "internet" ? a.internetMbitPerS : a.regionMbitPerS);
}

/** The same lines, each `what` prefixed (old and new objects' lines would read alike). */
export function prefixed(prefix: string, items: LineItem[]): LineItem[] {
  return items.map((item) => ({ ...item, what: prefix + item.what }));
}
