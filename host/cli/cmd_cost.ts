/**
 * `cost [--region R] [--json]`: this month's bill for the repository, from a listing of all
 * its objects (docs/cost-model.md §11): hot metadata in STANDARD, cold packs in their class,
 * the archived packs' per-object overhead, restored copies that exist now; a 12-month
 * projection; and the dead data's share, which stays unknown until `gc mark` exists (issue 5).
 *
 * @module
 */

import { estimateBill, projectBill, type RestoredCopy, type StoredObject } from "../cost/mod.ts";
import { surveyPacks } from "../cold/pack_survey.ts";
import { idOf, kindOf, tierOf } from "../repository/layout.ts";
import type { StorageClass } from "../storage/storage.ts";
import { bytes, type Context, UsageError } from "./context.ts";
import { render, usd } from "./estimate_render.ts";
import { repoPricing } from "./pricing.ts";

const PROJECTION_MONTHS = 12;
const DEAD_DATA_NOTE = "unknown until `gc mark` exists (issue 5)";

/** Objects of one kind in one class. */
interface KindCount {
  kind: string;
  storage_class: StorageClass;
  objects: number;
  bytes: number;
}

export async function cmdCost(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
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
    const now = Date.now();
    const restored: RestoredCopy[] = [];
    for (const s of await surveyPacks(repo.storage, archivedPacks)) {
      if (s.availability.state !== "restored") continue;
      const until = Date.parse(s.availability.until);
      restored.push({
        bytes: s.bytes,
        daysLeft: Number.isFinite(until) ? Math.max(0, (until - now) / 86_400_000) : undefined,
      });
    }
    const bill = estimateBill(stored, restored, pricing.table);
    const projection = projectBill(bill, PROJECTION_MONTHS, new Date(now));
    const totalBytes = listed.reduce((sum, o) => sum + o.size, 0);
    const notes = [
      "storage only: requests, restores and transfers made this month are not in a listing",
      ...(archivedPacks.length > 0
        ? [
          `restored copies found by one stat of each of the ${archivedPacks.length} archived packs`,
        ]
        : []),
      ...bill.notes,
      ...(pricing.note ? [pricing.note] : []),
    ];
    const counts = [...kinds.values()];
    ctx.print({
      ...bill.estimate,
      recurring_usd: bill.recurring_usd,
      projection,
      objects: counts,
      totals: { objects: listed.length, bytes: totalBytes },
      restored: {
        copies: restored.length,
        bytes: restored.reduce((sum, r) => sum + r.bytes, 0),
      },
      dead_data: { share: null, usd: null, note: DEAD_DATA_NOTE },
      notes,
    }, () =>
      [
        render(
          `this month's storage bill for ${location}: ${listed.length} objects, ${
            bytes(totalBytes)
          }`,
          bill.estimate,
          pricing.table,
        ),
        "",
        "objects:",
        ...counts.map((k) =>
          `  ${String(k.objects).padStart(6)}  ${k.kind} (${k.storage_class}), ${bytes(k.bytes)}`
        ),
        "",
        `every later month: ${usd(bill.recurring_usd)} (the same bytes, no restored copies)`,
        `next ${PROJECTION_MONTHS} months: ` +
        projection.months.map((m, i) => `${m} ${usd(projection.usd[i])}`).join(", "),
        `  total ${usd(projection.cumulative_usd[PROJECTION_MONTHS - 1])}`,
        `dead data: ${DEAD_DATA_NOTE}`,
        ...notes.map((n) => `note: ${n}`),
      ].join("\n"));
    return 0;
  } finally {
    await repo.storage.close();
  }
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
