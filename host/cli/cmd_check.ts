import { check, type CheckResult } from "../ops/check.ts";
import { parseSubset, type SubsetSpec } from "../ops/sample_pick.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import {
  CHECK_DAYS,
  planReadData,
  priceReadData,
  type ReadDataEstimate,
  readDataEstimateReport,
} from "../workflows/check_read.ts";
import type { Sample } from "../workflows/check_sample.ts";
import type { ReadChoice } from "../workflows/read_estimate.ts";
import { type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { checkSample } from "./check_sample.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";
import { destinationFlag, readEstimateText } from "./read_estimate.ts";
import { strayNote } from "./stray_note.ts";
import { thawOptions } from "./thaw_flags.ts";

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

/** What `check` reads: nothing but listings, every pack, or a sample. */
interface Reading {
  readData: boolean;
  subset?: SubsetSpec;
}

/**
 * `check [--read-data | --read-data-subset N%|N] [--estimate] [--budget USD] [--yes]`, and with
 * a subset `[--tier T] [--days N] [--wait] [--poll S]`. Exit status 0 when no problem is found,
 * 3 when problems are, 4 while sampled packs are being restored (run the printed command again).
 *
 * Without either flag the check is hot-only: it lists packs and reads none (`ops/check.ts`).
 * `--read-data` reads every pack and does not request restores (archived packs are reported
 * unreadable); `--read-data-subset` reads a sample and thaws it first (`check_sample.ts`).
 * Both are priced first (docs/cost-model.md §10.3, host/workflows/check_read.ts and
 * check_sample.ts) and go through the cost gate (`confirm.ts`) when the store bills.
 */
export async function cmdCheck(ctx: Context): Promise<number> {
  const reading = parseReading(ctx);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    let sample: Sample | undefined;
    if (reading.subset) {
      const prepared = await checkSample(ctx, repo, location, reading.subset);
      if ("status" in prepared) return prepared.status;
      sample = prepared.sample;
    } else if (reading.readData) {
      const status = await priceReadingAll(ctx, repo, location);
      if (status !== undefined) return status;
    }
    const { readData } = reading;
    const result = await check(repo, { readData, readPacks: sample?.packs });
    const read = readData ? "all" : sample ? "sample" : "none";
    ctx.print(
      { ...result, read, ...(sample ? { sample } : {}) },
      () => resultText(result, readData, sample),
    );
    return result.problems.length === 0 ? 0 : 3;
  } finally {
    await repo.storage.close();
  }
}

/** `--read-data`, `--read-data-subset`, and the flags only they take, checked. */
function parseReading(ctx: Context): Reading {
  refuseExtraArguments(ctx, 0);
  const readData = ctx.bool("read-data");
  const subsetText = ctx.string("read-data-subset");
  if (readData && subsetText !== undefined) {
    throw new UsageError("--read-data reads every pack, --read-data-subset a sample: give one");
  }
  const subset = subsetText === undefined ? undefined : subsetFlag(subsetText);
  if (ctx.bool("estimate") && !readData && !subset) {
    throw new UsageError(
      "--estimate prices reading packs: use it with --read-data or --read-data-subset",
    );
  }
  if (!subset && (ctx.bool("wait") || ctx.string("poll") !== undefined)) {
    throw new UsageError("--wait and --poll are for the restores of --read-data-subset");
  }
  return { readData, ...(subset ? { subset } : {}) };
}

/** `--read-data-subset`, parsed; a usage error naming the mistake. */
function subsetFlag(text: string): SubsetSpec {
  try {
    return parseSubset(text);
  } catch (err) {
    throw new UsageError(`--read-data-subset: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * `--read-data` priced (host/workflows/check_read.ts) when the estimate is asked for or the
 * store bills: `--estimate` prints it and ends the command (status 0); otherwise it goes
 * through the cost gate. Undefined: go on and check.
 */
async function priceReadingAll(
  ctx: Context,
  repo: Repository,
  location: string,
): Promise<number | undefined> {
  const estimate = ctx.bool("estimate");
  const pricing = cliPricing(ctx, repo, location);
  if (!estimate) noteUnbilledBudget(ctx, pricing, location, false);
  if (!estimate && pricing.asIfS3) return undefined;
  const plan = await planReadData(repo, pricing);
  const e = priceReadData(plan, pricing, readChoice(ctx));
  const shown = () => readEstimateText(readDataTitle(e), e, pricing, e.notes);
  if (estimate) {
    ctx.print(readDataEstimateReport(e), shown);
    return 0;
  }
  await approveCost(ctx, e.chosen.estimate, {
    action: "check --read-data",
    shown,
    threshold: true,
  });
  return undefined;
}

/** `--days` (default {@link CHECK_DAYS}), `--tier`, `--to`, for pricing `--read-data`. */
function readChoice(ctx: Context): ReadChoice {
  const days = Number(ctx.string("days") ?? CHECK_DAYS);
  if (!Number.isInteger(days) || days < 1) {
    throw new UsageError("--days must be a whole number ≥ 1");
  }
  const to = destinationFlag(ctx);
  return { days, tier: ctx.string("tier") as RestoreTier | undefined, to };
}

function readDataTitle(e: ReadDataEstimate): string {
  const s = e.summary;
  return `check --read-data: read ${s.packs} packs whole, ${s.objects} objects ` +
    `(metadata packs twice, cold and hot copy: ${s.metadata_packs})`;
}

function resultText(result: CheckResult, readData: boolean, sample?: Sample): string {
  const read = sample
    ? `read ${plural(sample.packs.length, "pack")} whole`
    : readData
    ? `read ${plural(result.packs, "pack")} whole`
    : undefined;
  return [
    `checked ${plural(result.snapshots, "snapshot")}, ${plural(result.packs, "pack")}, ${
      plural(result.blobs, "blob")
    }${
      read === undefined
        ? " (hot objects only: packs were listed, none was read)"
        : `, ${read} (${
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
    result.problems.length === 0 ? "no problems found" : `${result.problems.length} problems found`,
  ].join("\n");
}
