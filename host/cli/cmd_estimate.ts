/**
 * `estimate`: what storing, restoring, deleting or rebuilding would cost and how long it would
 * take, from sizes alone (no repository). Parses the flags into a plan, asks the cost model
 * (host/cost/), prints. Help: docs/cli/estimate.txt.
 *
 * @module
 */

import { bytes as humanBytes, type Context, jsonOption, UsageError } from "./context.ts";
import { render } from "./estimate_render.ts";
import type { Command, CommandGroup, OptionTable } from "./options.ts";
import { regionOption } from "./pricing.ts";
import { parseSize } from "../text/size.ts";
import { type RestoreTier, type StorageClass, storageClasses } from "../storage/storage.ts";
import {
  defaultAssumptions,
  type Destination,
  type Estimate,
  estimateDelete,
  estimateRebuild,
  estimateRestore,
  estimateStore,
  pricedTiers,
  type PriceTable,
} from "../cost/mod.ts";
import { priceTableOf } from "./pricing.ts";

/** What every scenario takes: the objects' total size and class, the prices, the output. */
const shape = {
  ...regionOption,
  ...jsonOption,
  size: { type: "string" },
  "object-size": { type: "string" },
  class: { type: "string" },
} as const satisfies OptionTable;

/** Reading the objects back: `restore` and `rebuild`. */
const reading = {
  ...shape,
  tier: { type: "string" },
  to: { type: "string" },
  days: { type: "string" },
  "free-egress": { type: "string" },
} as const satisfies OptionTable;

const scenarioOptions = {
  store: { ...shape, months: { type: "string" }, "part-size": { type: "string" } },
  restore: reading,
  delete: { ...shape, "age-days": { type: "string" } },
  rebuild: reading,
} as const satisfies Record<string, OptionTable>;

type Scenario = keyof typeof scenarioOptions;
const scenarios = Object.keys(scenarioOptions) as Scenario[];

/** `estimate store|restore|delete|rebuild`, each with its options: prints the itemised estimate. */
export const estimateCommands: CommandGroup = {
  subcommands: Object.fromEntries(
    scenarios.map((s): [Scenario, Command] => [
      s,
      { options: scenarioOptions[s], run: (ctx) => cmdEstimate(s, ctx) },
    ]),
  ),
  refuse: (scenario) =>
    new UsageError(
      scenario === undefined
        ? `say what to estimate: ${scenarios.join(", ")}`
        : `unknown estimate "${scenario}"; one of: ${scenarios.join(", ")}`,
    ),
};

function cmdEstimate(scenario: Scenario, ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const table = priceTable(ctx);
  const { title, result, timeOf } = run(scenario, ctx, table);
  ctx.print(result, () => render(title, result, table, timeOf));
  return Promise.resolve(0);
}

function run(scenario: Scenario, ctx: Context, table: PriceTable): {
  title: string;
  result: Estimate;
  /** What the estimate's time is the time of (docs/cost-model.md: the assumed rates). */
  timeOf: string;
} {
  const storageClass = classFlag(ctx);
  const size = sizeFlag(ctx, "size", true)!;
  if (scenario === "delete") {
    const ageDays = numberFlag(ctx, "age-days", true)!;
    const objectSize = sizeFlag(ctx, "object-size", false);
    const objects = objectSize === undefined ? undefined : objectCount(size, objectSize);
    return {
      title: `delete ${humanBytes(size)} of ${storageClass} ${ageDays} days after upload`,
      result: estimateDelete({ storageClass, bytes: size, ageDays, objects }, table),
      timeOf: "a delete takes effect at once",
    };
  }
  const objectSize = sizeFlag(ctx, "object-size", true)!;
  const objects = objectCount(size, objectSize);
  const shape = `${humanBytes(size)} of ${storageClass} as ${objects} objects of ${
    humanBytes(objectSize)
  }`;
  if (scenario === "store") {
    const months = numberFlag(ctx, "months", true)!;
    const partSize = sizeFlag(ctx, "part-size", false);
    const assumptions = partSize === undefined ? defaultAssumptions : {
      ...defaultAssumptions,
      upload: { ...defaultAssumptions.upload, partSize: positive("part-size", partSize) },
    };
    return {
      title: `store ${shape} for ${months} month${months === 1 ? "" : "s"}`,
      result: estimateStore({ storageClass, bytes: size, objects, months }, table, assumptions),
      timeOf: `the upload, at ${rate(defaultAssumptions.internetMbitPerS)}`,
    };
  }
  const to = destinationFlag(ctx);
  const freeEgressGB = freeEgressFlag(ctx, table);
  const days = numberFlag(ctx, "days", false);
  if (scenario === "restore") {
    const tier = tierFlag(ctx, storageClass, table, "standard");
    return {
      title: `restore ${shape}${tier ? ` at ${tier}` : ""}, download to ${place(to, table)}`,
      result: estimateRestore(
        { storageClass, bytes: size, objects, tier, days: days ?? 3, to, freeEgressGB },
        table,
      ),
      timeOf: readTime(to, tier),
    };
  }
  const tier = tierFlag(ctx, storageClass, table, "bulk");
  return {
    title: `rebuild from ${shape}${tier ? ` at ${tier}` : ""}, read ${
      to === "internet" ? `at ${place(to, table)}` : `by a job in ${table.region}`
    }`,
    result: estimateRebuild(
      { storageClass, bytes: size, objects, tier, days, to, freeEgressGB },
      table,
    ),
    timeOf: readTime(to, tier),
  };
}

/** "100-1,000 Mbit/s": an assumed transfer rate. */
function rate(mbit: { min: number; max: number }): string {
  return `${mbit.min.toLocaleString("en-US")}-${mbit.max.toLocaleString("en-US")} Mbit/s`;
}

/** What a restore's or a rebuild's time is: the wait for the tier, then the download. */
function readTime(to: Destination, tier: RestoreTier | undefined): string {
  const mbit = to === "internet"
    ? defaultAssumptions.internetMbitPerS
    : defaultAssumptions.regionMbitPerS;
  return `${tier ? `the ${tier} restore, then ` : ""}the download, at ${rate(mbit)}`;
}

function place(to: Destination, table: PriceTable): string {
  return to === "internet" ? "a machine outside AWS" : `a machine in ${table.region}`;
}

function priceTable(ctx: Context): PriceTable {
  return priceTableOf(ctx.string("region") ?? "us-east-1");
}

function classFlag(ctx: Context): StorageClass {
  const given = ctx.string("class") ?? "DEEP_ARCHIVE";
  const upper = given.toUpperCase();
  if (!(storageClasses as readonly string[]).includes(upper)) {
    throw new UsageError(
      `unknown storage class "${given}"; one of: ${storageClasses.join(", ")}`,
    );
  }
  return upper as StorageClass;
}

/** `--tier` for `storageClass`: `fallback` when not given; none for classes read directly. */
function tierFlag(
  ctx: Context,
  storageClass: StorageClass,
  table: PriceTable,
  fallback: RestoreTier,
): RestoreTier | undefined {
  const given = ctx.string("tier");
  const offered = pricedTiers(storageClass, table);
  if (offered.length === 0) {
    if (given !== undefined) {
      throw new UsageError(
        `${storageClass} objects are read without a restore, so there is no tier; leave out --tier`,
      );
    }
    return undefined;
  }
  const tier = (given ?? fallback).toLowerCase();
  if (!offered.includes(tier as RestoreTier)) {
    throw new UsageError(
      `${storageClass} offers no "${given}" restore tier; it offers: ${offered.join(", ")}`,
    );
  }
  return tier as RestoreTier;
}

function destinationFlag(ctx: Context): Destination {
  const to = ctx.string("to") ?? "internet";
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  return to;
}

/** `--free-egress SIZE`: the month's free internet egress left, as billed GB. */
function freeEgressFlag(ctx: Context, table: PriceTable): number | undefined {
  const free = sizeFlag(ctx, "free-egress", false);
  return free === undefined ? undefined : free / table.rules.gb_bytes.value;
}

function sizeFlag(ctx: Context, name: string, required: boolean): number | undefined {
  const text = ctx.string(name);
  if (text === undefined) {
    if (required) throw new UsageError(`--${name} is required (for example --${name} 64MiB)`);
    return undefined;
  }
  try {
    return parseSize(text);
  } catch (err) {
    throw new UsageError(`--${name}: ${err instanceof Error ? err.message : err}`);
  }
}

function numberFlag(ctx: Context, name: string, required: boolean): number | undefined {
  const text = ctx.string(name);
  if (text === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name} must be a number of 0 or more, not "${text}"`);
  }
  return n;
}

function positive(name: string, n: number): number {
  if (n <= 0) throw new UsageError(`--${name} must be more than 0`);
  return n;
}

function objectCount(size: number, objectSize: number): number {
  positive("object-size", objectSize);
  return Math.ceil(size / objectSize);
}
