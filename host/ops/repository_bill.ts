/**
 * The repository's monthly bill, from one listing of all its objects (docs/cost-model.md §11):
 * hot metadata in STANDARD, cold packs in their class, the archived packs' per-object
 * overhead, restored copies that exist now; a 12-month projection; and the dead data's share,
 * unknown until `gc mark` exists (issue 5). `permafrost cost` prints it; the web view serves it.
 *
 * @module
 */

import { estimateBill, projectBill, type RestoredCopy, type StoredObject } from "../cost/mod.ts";
import type { Estimate } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import { surveyPacks } from "../cold/pack_survey.ts";
import { idOf, kindOf, tierOf } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { StorageClass } from "../storage/storage.ts";

export const PROJECTION_MONTHS = 12;
export const DEAD_DATA_NOTE = "unknown until `gc mark` exists (issue 5)";

/** How the repository is priced (`repoPricing` in host/cli/pricing.ts gives one). */
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
  dead_data: { share: null; usd: null; note: string };
  notes: string[];
}

/** Lists the repository (and stats its archived packs) and prices what it holds. */
export async function repositoryBill(
  repo: Repository,
  pricing: BillPricing,
  now = new Date(),
): Promise<RepositoryBill> {
  await repo.loadIndex();
  const metadataPacks = new Set(
    [...repo.index.packs()].filter((p) => p.metadata).map((p) => p.id),
  );
  const listed = await repo.storage.list("");
  const kinds = new Map<string, KindCount>();
  const stored: StoredObject[] = [];
  const archivedPacks: string[] = [];
  for (const o of listed) {
    const hot = tierOf(o.name) === "hot";
    // §11.1 A store that reports no classes: hot objects STANDARD, packs the cold class.
    const storageClass: StorageClass = hot
      ? o.storageClass ?? "STANDARD"
      : pricing.asIfS3
      ? pricing.coldClass
      : o.storageClass ?? "STANDARD";
    stored.push({ storageClass, size: o.size, hot });
    const kind = kindName(o.name, metadataPacks);
    const key = `${kind} ${storageClass}`;
    const k = kinds.get(key) ?? { kind, storage_class: storageClass, objects: 0, bytes: 0 };
    k.objects++;
    k.bytes += o.size;
    kinds.set(key, k);
    if (!hot && !pricing.asIfS3 && pricing.table.rules.classes[storageClass].archived) {
      archivedPacks.push(o.name);
    }
  }
  // §11.2 Restored copies: one stat per archived pack says which have one, and until when.
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
  const bill = estimateBill(stored, restored, pricing.table);
  return {
    ...bill.estimate,
    recurring_usd: bill.recurring_usd,
    projection: projectBill(bill, PROJECTION_MONTHS, now),
    objects: [...kinds.values()],
    totals: { objects: listed.length, bytes: listed.reduce((sum, o) => sum + o.size, 0) },
    restored: {
      copies: restored.length,
      bytes: restored.reduce((sum, r) => sum + r.bytes, 0),
    },
    dead_data: { share: null, usd: null, note: DEAD_DATA_NOTE },
    notes: [
      "storage only: requests, restores and transfers made this month are not in a listing",
      ...(archivedPacks.length > 0
        ? [
          `restored copies found by one stat of each of the ${archivedPacks.length} archived packs`,
        ]
        : []),
      ...bill.notes,
      ...(pricing.note ? [pricing.note] : []),
    ],
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
      return "other";
  }
}
