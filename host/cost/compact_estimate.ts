/**
 * What `gc compact` spends on the packs it chose, before it acts (docs/cost-model.md §13.5):
 * {@link estimateCompact}.
 *
 * @module
 */

import type { StorageClass } from "../storage/storage.ts";
import { type Assumptions, defaultAssumptions } from "./assumptions.ts";
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
import {
  addHours,
  type Estimate,
  estimate,
  type HoursRange,
  type LineItem,
  noTime,
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
  packs.forEach(checkCompactPack);
  const work: CompactWork = {
    repack: packs.filter((p) => p.liveBytes > 0),
    table,
    options,
    o: resolveCompactOptions(options),
    a,
  };
  const readBytes = sum(work.repack, "bytes");
  const jobBytes = readBytes + sum(work.repack, "liveBytes");
  const reads = readItems(work, readBytes);
  const items = [
    ...reads.items,
    ...compactReadItems(readBytes, jobBytes, work.o.to, options.freeEgressGB, table, a),
    ...writeItems(work),
  ];
  return estimate(table, items, addHours(reads.restore, compactJobHours(jobBytes, work.o.to, a)));
}

/** What each step of {@link estimateCompact} prices. */
interface CompactWork {
  /** The packs with live bytes: those read and written again. */
  repack: CompactPack[];
  table: PriceTable;
  options: CompactOptions;
  o: ResolvedCompactOptions;
  a: Assumptions;
}

/**
 * Getting the packs' bytes, per class of the old packs: the restore of the archived cold
 * copies (and its time, the slowest tier's), direct reads of the others, and GETs of the
 * metadata packs' hot copies. Egress and the job are priced apart.
 */
function readItems(w: CompactWork, readBytes: number): { items: LineItem[]; restore: HoursRange } {
  const { repack, table, options, a } = w;
  const days = options.days ?? rebuildDays(readBytes, w.o.to, a);
  const items: LineItem[] = [];
  let restore: HoursRange = noTime;
  for (const cls of classesOf(repack)) {
    const restored = repack.filter((p) => p.storageClass === cls && needsRestore(p, table));
    if (restored.length > 0) {
      const gb = toGB(sum(restored, "bytes"), table);
      const tier = restoreTierFor(cls, options, table);
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
  return { items, restore };
}

/**
 * Writing the live bytes: per class of the new packs, data and metadata apart, the new packs'
 * PUTs, first month, per-object overhead and the rest of their minimum duration; new metadata
 * packs' hot copies' PUTs and first month.
 */
function writeItems(w: CompactWork): LineItem[] {
  const { repack, table, options, o, a } = w;
  const items: LineItem[] = [];
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
      items.push(...prefixed(what, [
        ...putItems(objects, bytes / objects, cls, table, a.upload),
        ...storageItems(gb, 1, cls, table),
        ...archiveOverheadItems(objects, 1, cls, table),
        ...minimumDurationItems(gb, 1, cls, table, a),
      ]));
      if (metadata) {
        items.push(...prefixed("their hot copies: ", [
          ...putItems(objects, bytes / objects, "STANDARD", table, a.upload),
          ...storageItems(gb, 1, "STANDARD", table),
        ]));
      }
    }
  }
  return items;
}

function classesOf(packs: { storageClass: StorageClass }[]): StorageClass[] {
  return [...new Set(packs.map((p) => p.storageClass))];
}

function sum(packs: CompactPack[], field: "bytes" | "liveBytes"): number {
  return packs.reduce((total, p) => total + p[field], 0);
}
