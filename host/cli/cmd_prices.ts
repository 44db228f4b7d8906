/**
 * `prices show|refresh`: which price table the estimates use, and refreshing it from the AWS
 * Price List Query API into the local cache (docs/cost-model.md §12). Help:
 * docs/cli/prices.txt.
 *
 * `refresh` calls GetProducts (ServiceCode "AmazonS3", filtered on the region's `regionCode`)
 * at the Pricing endpoint in us-east-1 with the standard AWS credential chain, follows
 * `NextToken` to the end, converts the answer (host/cost/price_refresh.ts), checks that the
 * result loads, and only then replaces `<cache dir>/prices/<region>.json` (written to a
 * temporary file in the same folder and renamed over it). Any failure before that leaves the
 * cache as it was, and estimates keep using the table they used.
 *
 * @module
 */

import { dirname } from "node:path";
import { type Context, jsonOption, UsageError } from "./context.ts";
import type { CommandGroup } from "./options.ts";
import { cachedPricePath, knownRegion, priceTableOf, regionOption } from "./pricing.ts";
import { parsePriceTable, type PriceTable, shippedPriceTable } from "../cost/mod.ts";
import { type FigureChange, refreshPriceTable, regionFileOf } from "../cost/price_refresh.ts";
import rulesJson from "../cost/prices/rules.json" with { type: "json" };

/** The Price List Query API answers in us-east-1 (also eu-central-1 and ap-south-1). */
const pricingEndpointRegion = "us-east-1";

/** Both take a region; `refresh` writes the local price cache, nothing in a repository. */
const options = { ...regionOption, ...jsonOption } as const;

/** `prices show` and `prices refresh`. */
export const pricesCommands: CommandGroup = {
  subcommands: {
    show: { options, run: (ctx) => cmdPrices("show", ctx) },
    refresh: { options, run: (ctx) => cmdPrices("refresh", ctx) },
  },
  refuse: (verb) =>
    new UsageError(
      verb === undefined
        ? "say what to do: show, refresh"
        : `unknown prices command "${verb}"; one of: show, refresh`,
    ),
};

async function cmdPrices(verb: "show" | "refresh", ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const region = ctx.string("region") ?? "us-east-1";
  knownRegion(region);
  if (verb === "show") {
    const table = priceTableOf(region);
    ctx.print(
      {
        region,
        name: table.name,
        date: table.date,
        source: table.origin,
        table: regionFileOf(table),
      },
      () => showTable(table),
    );
    return 0;
  }
  return await refresh(ctx, region);
}

async function refresh(ctx: Context, region: string): Promise<number> {
  const path = cachedPricePath(region);
  let priceList: string[];
  try {
    priceList = await getProducts(region);
  } catch (err) {
    throw new Error(
      `cannot refresh the prices of ${region} from the AWS Price List API (${
        oneLine(err)
      }); "${path}" was not changed, and estimates keep using the table they used`,
    );
  }
  const date = new Date().toISOString().slice(0, 10);
  const { file, refreshed, kept } = refreshPriceTable(shippedPriceTable(region), priceList, date);
  // The result must load before it replaces anything.
  parsePriceTable(file, rulesJson, `refreshed table for ${region}`);
  await writeAtomically(path, JSON.stringify(file, null, 2) + "\n");
  ctx.print(
    { region, date, path, products: priceList.length, refreshed, kept },
    () => showRefresh(region, path, priceList.length, refreshed, kept),
  );
  return 0;
}

/** Every product of ServiceCode "AmazonS3" in `region`, as GetProducts's `PriceList` strings. */
async function getProducts(region: string): Promise<string[]> {
  const { GetProductsCommand, PricingClient } = await import("@aws-sdk/client-pricing");
  const client = new PricingClient({ region: pricingEndpointRegion, maxAttempts: 2 });
  try {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new GetProductsCommand({
          ServiceCode: "AmazonS3",
          FormatVersion: "aws_v1",
          Filters: [{ Type: "TERM_MATCH", Field: "regionCode", Value: region }],
          MaxResults: 100,
          NextToken: token,
        }),
      );
      for (const item of page.PriceList ?? []) {
        out.push(typeof item === "string" ? item : JSON.stringify(item));
      }
      token = page.NextToken;
    } while (token);
    if (out.length === 0) throw new Error(`GetProducts returned no S3 products for ${region}`);
    return out;
  } finally {
    client.destroy();
  }
}

/** Writes `text` to a temporary file beside `path` and renames it over `path`. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, path);
  } catch (err) {
    await Deno.remove(temporary).catch(() => {});
    throw err;
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error
    ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`
    : String(err);
  return text.replace(/\s+/g, " ").trim();
}

function showRefresh(
  region: string,
  path: string,
  products: number,
  refreshed: FigureChange[],
  kept: FigureChange[],
): string {
  const asked = kept.filter((k) => !k.reason?.startsWith("not asked"));
  return [
    `refreshed ${region} from the AWS Price List API (${products} products): ${path}`,
    `${refreshed.length} figures refreshed:`,
    ...refreshed.map((r) =>
      `  ${r.path}: ${r.before} -> ${r.after}${r.before === r.after ? " (unchanged)" : ""}`
    ),
    `${asked.length} asked for but kept from the shipped table:`,
    ...asked.map((k) => `  ${k.path}: ${k.reason}`),
    `${
      kept.length - asked.length
    } others (transitions, egress, compute) kept from the shipped table`,
  ].join("\n");
}

function showTable(t: PriceTable): string {
  const lines = [
    `prices for ${t.region} (${t.name}), table of ${t.date}: ${t.origin}`,
    "storage per GB-month:",
  ];
  for (const [c, tiers] of Object.entries(t.storage_gb_month)) {
    const bands = tiers.map((b) =>
      `$${b.usd.value}${b.up_to_gb === null ? "" : ` up to ${b.up_to_gb} GB`}`
    );
    lines.push(`  ${c.padEnd(13)} ${bands.join(", then ")}`);
  }
  lines.push("requests per 1,000 (PUT / GET):");
  for (const [c, r] of Object.entries(t.requests_per_1000)) {
    lines.push(`  ${c.padEnd(13)} $${r.put.value} / $${r.get.value}`);
  }
  lines.push("restore (per GB / per 1,000 requests):");
  for (const [c, tiers] of Object.entries(t.restore)) {
    for (const [tier, p] of Object.entries(tiers ?? {})) {
      lines.push(`  ${`${c} ${tier}`.padEnd(22)} $${p.per_gb.value} / $${p.per_1000.value}`);
    }
  }
  return lines.join("\n");
}
