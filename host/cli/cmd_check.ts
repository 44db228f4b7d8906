import { check } from "../ops/check.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { surveyPacks } from "../cold/pack_survey.ts";
import { type Context, UsageError } from "./context.ts";
import { approveCost } from "./confirm.ts";
import { type RepoPricing, repoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  type ReadEstimate,
  readEstimateJson,
  readEstimateText,
} from "./read_estimate.ts";

/** Days the restored copies of a `check --read-data` estimate are kept, unless `--days`. */
const CHECK_DAYS = 1;

/**
 * `check [--read-data [--estimate] [--budget USD] [--yes]]`: exit status 3 when problems are
 * found. `--read-data` is priced first (docs/cost-model.md §10.3) and goes through the cost
 * gate (`confirm.ts`) when the repository is on a store that bills.
 */
export async function cmdCheck(ctx: Context): Promise<number> {
  const readData = ctx.bool("read-data");
  if (ctx.bool("estimate") && !readData) {
    throw new UsageError("--estimate prices reading every pack: use it with --read-data");
  }
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    if (readData) {
      const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
      if (ctx.bool("estimate") || !pricing.asIfS3) {
        const { r, title, notes, plan } = await priceReadData(ctx, repo, pricing);
        const shown = () => readEstimateText(title, r, pricing, notes);
        if (ctx.bool("estimate")) {
          ctx.print(readEstimateJson(r, plan, notes), shown);
          return 0;
        }
        await approveCost(ctx, r.chosen.estimate, {
          action: "check --read-data",
          shown,
          threshold: true,
        });
      }
    }
    const result = await check(repo, { readData });
    ctx.print(result, () =>
      [
        `checked ${result.snapshots} snapshots, ${result.packs} packs, ${result.blobs} blobs${
          readData ? `, read ${result.readPacks} packs` : ""
        }`,
        ...result.problems.map((p) =>
          `error: ${p.pack ? `pack ${p.pack.slice(0, 12)}: ` : ""}${p.message}`
        ),
        result.problems.length === 0
          ? "no problems found"
          : `${result.problems.length} problems found`,
      ].join("\n"));
    return result.problems.length === 0 ? 0 : 3;
  } finally {
    await repo.storage.close();
  }
}

/**
 * §10.3 Reading every pack whole: each pack's cold copy (restored first when archived; the
 * survey stats each one, unless the store reports no classes and all are taken as archived)
 * and each metadata pack's hot copy, one GET per object.
 */
async function priceReadData(ctx: Context, repo: Repository, pricing: RepoPricing): Promise<{
  r: ReadEstimate;
  title: string;
  notes: string[];
  plan: { packs: number; metadata_packs: number; objects: number; bytes: number };
}> {
  await repo.loadIndex();
  const packs = [...repo.index.packs()];
  const states = pricing.asIfS3 ? [] : await surveyPacks(
    repo.storage,
    packs.map((p) => layout.pack(p.id)),
  );
  const coldArchived = pricing.table.rules.classes[pricing.coldClass].archived;
  const objects: ObjectRead[] = [];
  packs.forEach((p, i) => {
    const s = states[i];
    objects.push({
      storageClass: s ? s.storageClass : pricing.coldClass,
      bytes: p.length,
      archived: s ? s.availability.state === "archived" : coldArchived,
      gets: 1,
      readBytes: p.length,
    });
    if (p.metadata) {
      objects.push({
        storageClass: "STANDARD",
        bytes: p.length,
        archived: false,
        gets: 1,
        readBytes: p.length,
      });
    }
  });
  const days = Number(ctx.string("days") ?? CHECK_DAYS);
  if (!Number.isInteger(days) || days < 1) {
    throw new UsageError("--days must be a whole number ≥ 1");
  }
  const r = priceReads(ctx, pricing, objects, days);
  const bytes = objects.reduce((sum, o) => sum + o.readBytes, 0);
  const metadata = packs.filter((p) => p.metadata).length;
  return {
    r,
    title: `check --read-data: read ${packs.length} packs whole, ${objects.length} objects ` +
      `(metadata packs twice, cold and hot copy: ${metadata})`,
    notes: [
      ...(objects.some((o) => o.archived)
        ? [
          "check does not request restores itself (it reports archived packs as unreadable): " +
          "the restore lines are what reading them would take",
        ]
        : []),
      `restored copies are priced for ${days} day${days === 1 ? "" : "s"} (--days)`,
      ...(pricing.note ? [pricing.note] : []),
    ],
    plan: { packs: packs.length, metadata_packs: metadata, objects: objects.length, bytes },
  };
}
