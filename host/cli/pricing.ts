/**
 * Which price table a repository's estimates use, and whether they price the real store: the
 * region is `--region`, else the S3 location's (`?region=`, then `AWS_REGION`,
 * `AWS_DEFAULT_REGION`), else us-east-1. A local or SQLite repository has no AWS bill: its
 * estimates price the packs as if they were on S3 in the cold class its config names, and say
 * so (docs/cost-model.md §10). The local back end's `?cold=simulate` mode reports classes and
 * states like S3, so it is priced as it reports them. The table is the cached refresh of
 * `permafrost prices refresh` when there is a valid one, else the shipped one
 * (docs/cost-model.md §12).
 *
 * @module
 */

import { join } from "node:path";
import { type PriceTable, shippedRegions } from "../cost/mod.ts";
import { type CachedPriceFile, preferredPriceTable } from "../cost/price_table.ts";
import { defaultCacheDir } from "../cache/location.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import type { StorageClass } from "../storage/storage.ts";
import { type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

/** `--region R`, which {@link repoPricing} reads: for the tables of the commands that price. */
export const regionOption = { region: { type: "string" } } as const satisfies OptionTable;

export interface RepoPricing {
  table: PriceTable;
  /**
   * True when the store reports no classes or states (a plain local folder, SQLite): every
   * pack is priced as archived in `coldClass`, as if on S3.
   */
  asIfS3: boolean;
  coldClass: StorageClass;
  /** Said under every estimate when `asIfS3`. */
  note?: string;
}

/** The pricing of the repository at `location`, whose config names `coldClass`. */
export function repoPricing(ctx: Context, location: string, coldClass: StorageClass): RepoPricing {
  const s3 = location.startsWith("s3://");
  const region = ctx.string("region") ?? (s3 ? parseS3Location(location).region : "us-east-1");
  const table = priceTableOf(region);
  const simulated = !s3 && /[?&]cold=simulate(&|$)/.test(location);
  const asIfS3 = !s3 && !simulated;
  return {
    table,
    asIfS3,
    coldClass,
    ...(asIfS3
      ? {
        note: `"${location}" is not on S3: priced as if its packs were in ${coldClass} ` +
          `(the repository's cold class) on S3 in ${region}, and nothing is billed`,
      }
      : {}),
  };
}

/**
 * The table of `region`: the cached refresh (`permafrost prices refresh`, at
 * {@link cachedPricePath}) when it is valid and at least as new as the shipped table, else the
 * shipped table; a cached file that cannot be read or does not load is ignored with a warning
 * on stderr. A usage error naming the known regions for any other region.
 */
export function priceTableOf(region: string): PriceTable {
  knownRegion(region);
  let cached: CachedPriceFile | undefined;
  let path: string | undefined;
  try {
    path = cachedPricePath(region);
    cached = { path, json: JSON.parse(Deno.readTextFileSync(path)) };
  } catch (err) {
    if (path !== undefined && !(err instanceof Deno.errors.NotFound)) {
      console.error(
        `warning: ignoring the cached price table "${path}" (${
          err instanceof Error ? err.message : err
        }); using the shipped table`,
      );
    }
  }
  const { table, warning } = preferredPriceTable(region, cached);
  if (warning) console.error(`warning: ${warning}`);
  return table;
}

/** Where `prices refresh` keeps `region`'s table: `<cache dir>/prices/<region>.json`. */
export function cachedPricePath(region: string): string {
  return join(defaultCacheDir(), "prices", `${region}.json`);
}

/** A usage error naming the known regions unless `region` has a shipped table. */
export function knownRegion(region: string): void {
  if (!shippedRegions.includes(region)) {
    throw new UsageError(
      `no price table for region "${region}"; known regions: ${shippedRegions.join(", ")}`,
    );
  }
}
