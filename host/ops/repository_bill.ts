/**
 * The repository's monthly bill, from one listing of all its objects (docs/cost-model.md §11):
 * hot metadata in STANDARD, cold packs in their class, the archived packs' per-object
 * overhead, restored copies that exist now; a 12-month projection; and what the dead data
 * costs each month and its share of the bill, from the latest `gc mark` (saved on this machine,
 * host/ops/gc_mark_store.ts). `permafrost cost` prints it; the web view serves it.
 *
 * @module
 */

import { estimateBill, projectBill, type RestoredCopy, type StoredObject } from "../cost/mod.ts";
import { type Estimate, round6 } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import { surveyPacks } from "../cold/pack_survey.ts";
import { idOf, isMirror, kindOf, tierOf } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { StorageClass } from "../storage/storage.ts";
import type { SavedMark } from "./gc_mark.ts";
import { loadMark } from "./gc_mark_store.ts";

export const PROJECTION_MONTHS = 12;
export const DEAD_DATA_NOTE = "unknown: run `permafrost gc mark`";

/** How the repository is priced (`repoPricing` in host/workflows/pricing.ts gives one). */
export interface BillPricing {
  table: PriceTable;
  /** The store reports no classes (a folder, SQLite): packs are priced as if in `coldClass`. */
  asIfS3: boolean;
  coldClass: StorageClass;
  note?: string;
}

/** Objects of one kind in one class. */
export interface KindCount {
  kind: string;
  storage_class: StorageClass;
  objects: number;
  bytes: number;
}

/** The bill as `permafrost cost --json` prints it. */
export interface RepositoryBill extends Estimate {
  recurring_usd: number;
  projection: { months: string[]; usd: number[]; cumulative_usd: number[] };
  objects: KindCount[];
  totals: { objects: number; bytes: number };
  restored: { copies: number; bytes: number };
  dead_data: DeadData;
  notes: string[];
}

/**
 * Dead data (docs/cost-model.md §11.4): what the bill would drop by each month without the
 * bytes the latest `gc mark` found dead, and that over `recurring_usd`. All `null` (and
 * `note` saying how to get them) when the repository was never marked on this machine.
 */
export interface DeadData {
  /** `usd / recurring_usd`, 0 to 1 (taken before `usd` is rounded). */
  share: number | null;
  usd: number | null;
  /** Dead stored bytes still in the store, both tiers (a metadata pack's bytes twice). */
  bytes: number | null;
  /** When the mark ran (ISO 8601). */
  marked_at: string | null;
  note: string;
}

/**
 * Lists the repository (and stats its archived packs) and prices what it holds. `mark` is the
 * mark report to price dead data with; by default the latest one saved on this machine.
 * Steps: the mark ({@link markToPrice}), the listing tallied ({@link tallyListing}), the
 * restored copies ({@link restoredCopies}), then the bill and its projection.
 */
export async function repositoryBill(
  repo: Repository,
  pricing: BillPricing,
  now = new Date(),
  mark?: SavedMark | null,
): Promise<RepositoryBill> {
  const { saved, problem } = mark === undefined
    ? markToPrice(repo)
    : { saved: mark, problem: undefined };
  await repo.loadIndex();
  const listed = await repo.storage.list("");
  const t = tallyListing(repo, pricing, listed, saved);
  const restored = await restoredCopies(repo, t.archivedPacks, now);
  const bill = estimateBill(t.stored, restored, pricing.table);
  return {
    ...bill.estimate,
    recurring_usd: bill.recurring_usd,
    projection: projectBill(bill, PROJECTION_MONTHS, now),
    objects: [...t.kinds.values()],
    totals: { objects: listed.length, bytes: listed.reduce((sum, o) => sum + o.size, 0) },
    restored: {
      copies: restored.length,
      bytes: restored.reduce((sum, r) => sum + r.bytes, 0),
    },
    dead_data: saved ? deadData(t.stored, t.dead, pricing.table, saved) : {
      share: null,
      usd: null,
      bytes: null,
      marked_at: null,
      note: problem ? `${DEAD_DATA_NOTE} again (${problem})` : DEAD_DATA_NOTE,
    },
    notes: [
      "storage only: requests, restores and transfers made this month are not in a listing",
      ...(t.archivedPacks.length > 0
        ? [
          `restored copies found by one stat of each of the ${t.archivedPacks.length} archived packs`,
        ]
        : []),
      ...bill.notes,
      ...(pricing.note ? [pricing.note] : []),
    ],
  };
}

/**
 * The latest mark saved on this machine, or null: none saved, or one that cannot be read
 * (a `TypeError`, whose message is the `problem` to show).
 */
function markToPrice(repo: Repository): { saved: SavedMark | null; problem?: string } {
  try {
    return { saved: loadMark(repo.config.id) };
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return { saved: null, problem: err.message };
  }
}

/** What one listing of the repository holds, as the bill prices it. */
interface Tally {
  /** Each listed object, in its class (§11.1), in listing order. */
  stored: StoredObject[];
  /** The dead bytes of each listed object, in the same order. */
  dead: number[];
  /** Objects and bytes per kind and class. */
  kinds: Map<string, KindCount>;
  /** Names of the packs in an archive class (each may have a restored copy). */
  archivedPacks: string[];
}

/**
 * §11.1 Tallies `listed`: each object's class (on a store that reports no classes: hot objects
 * STANDARD, packs the cold class), its dead bytes per `mark`, its kind, and the archived packs.
 */
function tallyListing(
  repo: Repository,
  pricing: BillPricing,
  listed: { name: string; size: number; storageClass?: StorageClass }[],
  mark: SavedMark | null,
): Tally {
  const metadataPacks = new Set(
    [...repo.index.packs()].filter((p) => p.metadata).map((p) => p.id),
  );
  const t: Tally = { stored: [], dead: [], kinds: new Map(), archivedPacks: [] };
  const deadOf = mark ? deadBytesOf(mark, repo) : () => 0;
  for (const o of listed) {
    const hot = tierOf(o.name) === "hot";
    // A mirrored file is in its rule's class, which a store without classes does not list.
    const storageClass: StorageClass = hot || isMirror(o.name)
      ? o.storageClass ?? "STANDARD"
      : pricing.asIfS3
      ? pricing.coldClass
      : o.storageClass ?? "STANDARD";
    t.stored.push({ storageClass, size: o.size, hot });
    t.dead.push(deadOf(o.name, o.size));
    const kind = kindName(o.name, metadataPacks);
    const key = `${kind} ${storageClass}`;
    const k = t.kinds.get(key) ?? { kind, storage_class: storageClass, objects: 0, bytes: 0 };
    k.objects++;
    k.bytes += o.size;
    t.kinds.set(key, k);
    if (!hot && !pricing.asIfS3 && pricing.table.rules.classes[storageClass].archived) {
      t.archivedPacks.push(o.name);
    }
  }
  return t;
}

/** §11.2 Restored copies: one stat per archived pack says which have one, and until when. */
async function restoredCopies(
  repo: Repository,
  archivedPacks: string[],
  now: Date,
): Promise<RestoredCopy[]> {
  const restored: RestoredCopy[] = [];
  for (const s of await surveyPacks(repo.storage, archivedPacks)) {
    if (s.availability.state !== "restored") continue;
    const until = Date.parse(s.availability.until);
    restored.push({
      bytes: s.bytes,
      daysLeft: Number.isFinite(until)
        ? Math.max(0, (until - now.getTime()) / 86_400_000)
        : undefined,
    });
  }
  return restored;
}

/**
 * §11.4 How many of a listed object's bytes the mark found dead: an indexed pack's (and its hot
 * copy's) `deadBytes`; all of an orphan, unless an index segment names it by now (a backup
 * was writing it during the mark). Packs written since the mark count as live.
 */
function deadBytesOf(mark: SavedMark, repo: Repository): (name: string, size: number) => number {
  const packs = new Map(mark.packs.map((p) => [p.id, p]));
  const orphans = new Set(mark.orphans.map((o) => o.name));
  return (name, size) => {
    const kind = kindOf(name);
    if (kind !== "pack" && kind !== "meta") return 0;
    const usage = packs.get(idOf(name));
    if (usage) return Math.min(size, usage.deadBytes);
    return orphans.has(name) && repo.index.pack(idOf(name)) === undefined ? size : 0;
  };
}

/**
 * §11.4 The dead data's monthly cost: the recurring bill less the same bill with each object
 * shrunk by its dead bytes (an object all dead is gone, with its per-object overhead), both
 * priced by `estimateBill`; its share is that over the recurring bill. The difference is taken
 * before rounding to the millionth dollar, so a small repository still gets a share.
 */
function deadData(
  stored: StoredObject[],
  dead: number[],
  table: PriceTable,
  mark: SavedMark,
): DeadData {
  const alive: StoredObject[] = [];
  let bytes = 0;
  stored.forEach((o, i) => {
    bytes += dead[i];
    if (dead[i] < o.size) alive.push({ ...o, size: o.size - dead[i] });
  });
  const monthly = (objects: StoredObject[]) =>
    estimateBill(objects, [], table).estimate.items.reduce(
      (sum, i) => sum + i.quantity * i.unit_usd,
      0,
    );
  const all = monthly(stored);
  const usd = Math.max(0, all - monthly(alive));
  return {
    share: all > 0 ? usd / all : 0,
    usd: round6(usd),
    bytes,
    marked_at: mark.time,
    note: `from the gc mark of ${mark.time.slice(0, 16).replace("T", " ")} UTC; ` +
      "packs written since count as live",
  };
}

function kindName(name: string, metadataPacks: Set<string>): string {
  switch (kindOf(name)) {
    case "config":
      return "config";
    case "key":
      return "key";
    case "index":
      return "index segment";
    case "snapshot":
      return "snapshot";
    case "meta":
      return "metadata pack, hot copy";
    case "pack":
      return metadataPacks.has(idOf(name)) ? "metadata pack, cold copy" : "data pack";
    default:
      return isMirror(name) ? "mirrored file (sync)" : "other";
  }
}
