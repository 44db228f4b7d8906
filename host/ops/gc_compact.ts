/**
 * `gc compact`, the plan (docs/gc.md "Compact", stage 3): mark the repository, price
 * every pack holding dead bytes with the break-even of docs/cost-model.md ("Compaction"), and
 * choose:
 * - **drop**: packs with no live blob, or whose live blobs all have a copy in an attested pack
 *   (docs/gc.md "Trust"). They are retired without being read or restored.
 * - **repack**: packs whose dead bytes, over the horizon, cost more than restoring them, writing
 *   their live blobs again and the new packs' own minimum duration.
 * - **keep**: the rest, with the numbers that say why.
 *
 * The plan also surveys the cold copies of the data packs to repack (metadata packs are read
 * from their hot copies and need no restore), so the command can request restores for the
 * archived ones and wait, or stop and be run again. `gc_compact_execute.ts` carries it out.
 *
 * @module
 */

import { type PackState, surveyPacks } from "../cold/pack_survey.ts";
import {
  chooseCompaction,
  type CompactBreakEven,
  compactBreakEven,
} from "../cost/compact_break_even.ts";
import type { CompactOptions, CompactPack } from "../cost/compact_cost.ts";
import { estimateCompact } from "../cost/compact_estimate.ts";
import type { Estimate } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import type { IndexedPack } from "../repository/index_segment.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { StorageClass } from "../storage/storage.ts";
import { assertAdmin } from "./admin_gate.ts";
import { type MarkReport, markRepository, type PackUsage } from "./gc_mark.ts";
import type { CompactWork } from "./gc_compact_execute.ts";
import { attestedBlobs, effectiveRecords } from "./gc_records.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CompactPlanOptions extends CompactOptions {
  table: PriceTable;
  /**
   * Repack every pack with dead bytes, whether or not it pays for itself (a store that bills
   * nothing, or a user who wants the space back): the break-even is still shown.
   */
  all?: boolean;
  /** "Now", for tests. */
  now?: Date;
}

export interface CompactPlan {
  mark: MarkReport;
  /** Packs without live blobs: retired unread. */
  drop: PackUsage[];
  /** Packs worth repacking, best net saving first. */
  repack: CompactBreakEven[];
  /** Packs with dead bytes that do not pay for a repack (yet). */
  keep: CompactBreakEven[];
  /** What repacking costs and takes (restore, reads, PUTs, new storage). */
  estimate: Estimate;
  /** The same work priced at home and by a job in the bucket's region. */
  atHome: Estimate;
  inRegion: Estimate;
  /** The cold copies of the data packs to repack, where they stand. */
  survey: PackState[];
}

/** Marks, prices and chooses; reads and writes no pack. */
export async function planCompact(
  repo: Repository,
  options: CompactPlanOptions,
): Promise<CompactPlan> {
  assertAdmin(repo, "gc compact");
  const now = (options.now ?? new Date()).getTime();
  const mark = await markRepository(repo);
  const state: CompactState = {
    repo,
    options,
    mark,
    pricing: {
      ...options,
      packBytes: options.packBytes ?? repo.config.pack.dataSize,
      metaPackBytes: options.metaPackBytes ?? repo.config.pack.metaSize,
    },
  };
  const choice = chooseCompaction(await candidates(state, now), options.table, state.pricing);
  const chosen = options.all ? [...choice.worthIt, ...choice.notWorthIt] : choice.worthIt;
  const sorted: SortedPacks = {
    drop: [],
    repack: chosen.filter((c) => c.kind === "repack"),
    keep: options.all ? [] : [...choice.notWorthIt],
  };
  await sortDeadPacks(state, chosen, sorted);
  const packs = sorted.repack.map((c) => c.pack);
  const survey = await surveyPacks(
    repo.storage,
    packs.filter((p) => !p.metadata).map((p) => layout.pack(p.id!)),
  );
  const { table } = options;
  return {
    mark,
    ...sorted,
    estimate: estimateCompact(packs, table, state.pricing),
    atHome: estimateCompact(packs, table, { ...state.pricing, to: "internet" }),
    inRegion: estimateCompact(packs, table, { ...state.pricing, to: "region" }),
    survey,
  };
}

/** What every step of the plan reads: the mark, and the options with the repository's sizes. */
interface CompactState {
  repo: Repository;
  options: CompactPlanOptions;
  mark: MarkReport;
  /** `options` with the new packs' sizes defaulting to the repository's (config `pack`). */
  pricing: CompactOptions;
}

/** The plan's three lists as the steps fill them. */
type SortedPacks = Pick<CompactPlan, "drop" | "repack" | "keep">;

/**
 * Every marked pack with dead bytes, as the break-even prices it: its cold copy's class (from
 * one listing of `packs/`; the repository's when not listed) and its age at `now` (0 when the
 * store gives no time).
 */
async function candidates(state: CompactState, now: number): Promise<CompactPack[]> {
  const { repo, mark } = state;
  const listed = new Map<string, { storageClass?: StorageClass; modified?: string }>();
  for (const o of await repo.storage.list(layout.prefixes.pack)) {
    if (kindOf(o.name) === "pack") listed.set(idOf(o.name), o);
  }
  const out: CompactPack[] = [];
  for (const p of mark.packs) {
    if (p.deadBytes === 0) continue;
    const o = listed.get(p.id);
    const modified = o?.modified ? Date.parse(o.modified) : undefined;
    out.push({
      id: p.id,
      storageClass: o?.storageClass ?? repo.config.cold.storageClass,
      bytes: p.length,
      liveBytes: p.liveBytes,
      deadBytes: p.deadBytes,
      ageDays: modified === undefined ? 0 : Math.max(0, Math.floor((now - modified) / DAY_MS)),
      metadata: p.metadata,
    });
  }
  return out;
}

/**
 * Sorts the chosen packs the mark finds all dead into `drop`, or, when one still holds a live
 * blob whose other copy is in a pack no admin-tagged segment attests (docs/gc.md "Trust"),
 * prices it again for those blobs into `repack` or `keep`: it must be read and copied, not
 * dropped unread. Every record naming the pack counts (the union, as the execute's final check
 * reads them): a forged one listing none of its blobs must not hide the honest one.
 */
async function sortDeadPacks(
  state: CompactState,
  chosen: readonly CompactBreakEven[],
  sorted: SortedPacks,
): Promise<void> {
  const { repo, options, mark, pricing } = state;
  const records = await effectiveRecords(repo);
  const blobsOf = new Map<string, IndexedPack["blobs"]>();
  for (const s of records) {
    for (const p of s.packs) blobsOf.set(p.pack, [...blobsOf.get(p.pack) ?? [], ...p.blobs]);
  }
  const trusted = attestedBlobs(records, new Set(chosen.map((c) => c.pack.id!)));
  const usage = new Map(mark.packs.map((p) => [p.id, p]));
  for (const c of chosen.filter((c) => c.kind === "purge")) {
    const uncovered = (blobsOf.get(c.pack.id!) ?? []).filter((b) =>
      mark.live.has(b.id) && !trusted.has(b.id)
    );
    if (uncovered.length === 0) {
      sorted.drop.push(usage.get(c.pack.id!)!);
      continue;
    }
    const liveBytes = Math.min(c.pack.bytes, uncovered.reduce((sum, b) => sum + b.length, 0));
    const again = compactBreakEven(
      { ...c.pack, liveBytes, deadBytes: c.pack.bytes - liveBytes },
      options.table,
      pricing,
    );
    (options.all || again.worthIt ? sorted.repack : sorted.keep).push(again);
  }
}

/** The work `executeCompact` does for a plan. */
export function compactWork(plan: CompactPlan): CompactWork {
  const metadata = new Map(plan.mark.packs.map((p) => [p.id, p.metadata]));
  return {
    repack: plan.repack.map((c) => ({
      id: c.pack.id!,
      metadata: metadata.get(c.pack.id!)!,
      bytes: c.pack.bytes,
    })),
    drop: plan.drop.map((p) => ({ id: p.id, metadata: p.metadata })),
    live: plan.mark.live,
    packIndexes: plan.mark.packIndexes,
  };
}
