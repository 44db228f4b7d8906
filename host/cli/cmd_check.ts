import { check } from "../ops/check.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { surveyPacks } from "../cold/pack_survey.ts";
import { type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { cliPricing, regionOption, type RepoPricing } from "./pricing.ts";
import { strayNote } from "./stray_note.ts";
import { thawOptions } from "./thaw_flags.ts";
import {
  priceReads,
  type ReadEstimate,
  readEstimateJson,
  readEstimateText,
} from "./read_estimate.ts";
import {
  CHECK_DAYS,
  prepareSample,
  type Sample,
  subsetFlag,
  wholePackReads,
} from "./check_subset.ts";

export const checkOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  "read-data": { type: "boolean" },
  "read-data-subset": { type: "string" },
  estimate: { type: "boolean" },
  to: { type: "string" },
} as const satisfies OptionTable;

/**
 * `check [--read-data | --read-data-subset N%|N] [--estimate] [--budget USD] [--yes]`, and with
 * a subset `[--tier T] [--days N] [--wait] [--poll S]`. Exit status 0 when no problem is found,
 * 3 when problems are, 4 while sampled packs are being restored (run the printed command again).
 *
 * Without either flag the check is hot-only: it lists packs and reads none (`ops/check.ts`).
 * `--read-data` reads every pack and does not request restores (archived packs are reported
 * unreadable); `--read-data-subset` reads a sample and thaws it first (`check_subset.ts`). Both
 * are priced first (docs/cost-model.md §10.3) and go through the cost gate (`confirm.ts`) when
 * the repository is on a store that bills.
 */
export async function cmdCheck(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const readData = ctx.bool("read-data");
  const subsetText = ctx.string("read-data-subset");
  if (readData && subsetText !== undefined) {
    throw new UsageError("--read-data reads every pack, --read-data-subset a sample: give one");
  }
  const spec = subsetText === undefined ? undefined : subsetFlag(subsetText);
  if (ctx.bool("estimate") && !readData && !spec) {
    throw new UsageError(
      "--estimate prices reading packs: use it with --read-data or --read-data-subset",
    );
  }
  if (!spec && (ctx.bool("wait") || ctx.string("poll") !== undefined)) {
    throw new UsageError("--wait and --poll are for the restores of --read-data-subset");
  }
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    let sample: Sample | undefined;
    if (spec) {
      const prepared = await prepareSample(ctx, repo, location, spec);
      if ("status" in prepared) return prepared.status;
      sample = prepared.sample;
    } else if (readData) {
      const pricing = cliPricing(ctx, repo, location);
      if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, false);
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
    const result = await check(repo, { readData, readPacks: sample?.packs });
    const read = readData ? "all" : sample ? "sample" : "none";
    ctx.print({ ...result, read, ...(sample ? { sample } : {}) }, () =>
      [
        `checked ${plural(result.snapshots, "snapshot")}, ${plural(result.packs, "pack")}, ${
          plural(result.blobs, "blob")
        }${
          read === "none"
            ? " (hot objects only: packs were listed, none was read)"
            : `, read ${plural(readData ? result.packs : sample!.packs.length, "pack")} whole (${
              plural(result.readPacks, "object")
            }: a metadata pack's hot and cold copies are both read)`
        }`,
        ...(sample
          ? [
            `sample seed ${sample.seed}: ${sample.packs.length} of ${plural(sample.of, "pack")} ` +
            `(--read-data-subset ${sample.subset} picks them again)`,
          ]
          : []),
        ...result.problems.map((p) =>
          `error: ${p.snapshot ? `snapshot ${p.snapshot.slice(0, 12)}: ` : ""}${
            p.pack ? `pack ${p.pack.slice(0, 12)}: ` : ""
          }${p.blob ? `blob ${p.blob.slice(0, 12)}: ` : ""}${p.message}`
        ),
        ...strayNote(result.strays),
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
  const byId = new Map(packs.map((p, i) => [p.id, states[i]]));
  const objects = wholePackReads(packs, pricing, (p) => byId.get(p.id));
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
          "check --read-data does not request restores itself (it reports archived packs as " +
          "unreadable): the restore lines are what reading them would take; " +
          "--read-data-subset restores the packs it samples",
        ]
        : []),
      `restored copies are priced for ${days} day${days === 1 ? "" : "s"} (--days)`,
      ...(pricing.note ? [pricing.note] : []),
    ],
    plan: { packs: packs.length, metadata_packs: metadata, objects: objects.length, bytes },
  };
}
