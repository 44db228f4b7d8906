/**
 * Which price table a repository's estimates use, and whether they price the real store, from
 * what the opened store declares about itself (`Storage.properties`, host/storage/storage.ts),
 * never from its location string. The region is the caller's override (`--region`, the web
 * view's), else the region that bills the store, else us-east-1. A store that reports no
 * classes or states (a plain local folder, SQLite) has no AWS bill: its estimates price the
 * packs as if they were on S3 in the cold class its config names, and say so
 * (docs/cost-model.md §10). A store that reports classes and states without a bill (the local
 * back end's `?cold=simulate`) is priced as it reports them. The table is the cached refresh
 * of `permafrost prices refresh` when there is a valid one, else the shipped one
 * (docs/cost-model.md §12).
 *
 * @module
 */

import { join } from "node:path";
import { defaultCacheDir } from "../cache/location.ts";
import { type PriceTable, shippedRegions } from "../cost/mod.ts";
import { type CachedPriceFile, preferredPriceTable } from "../cost/price_table.ts";
import type { Repository } from "../repository/repository.ts";
import { plainStore, type Storage, type StorageClass } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";

/** How a repository is priced. */
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

/** Options of {@link repoPricing}. */
export interface PricingOptions {
  /** The region whose prices apply, over the store's own. */
  region?: string;
  /** How notes name the store ("local:/srv/repo"); default "the repository". */
  name?: string;
  /** Told why a cached price table was passed over (default: ignored). */
  onWarning?: (message: string) => void;
}

/** The pricing of `repo`: its storage's properties and its config's cold class. */
export function repoPricing(repo: Repository, options: PricingOptions = {}): RepoPricing {
  return storePricing(repo.storage, repo.config.cold.storageClass, options);
}

/** The pricing of a store whose repository's config names `coldClass`. */
export function storePricing(
  storage: Pick<Storage, "properties">,
  coldClass: StorageClass,
  options: PricingOptions = {},
): RepoPricing {
  const properties = storage.properties ?? plainStore;
  const region = options.region ?? properties.billedRegion ?? "us-east-1";
  const table = priceTableOf(region, options);
  const asIfS3 = !properties.coldStates && properties.billedRegion === undefined;
  const name = options.name === undefined ? "the repository" : `"${options.name}"`;
  return {
    table,
    asIfS3,
    coldClass,
    ...(asIfS3
      ? {
        note: `${name} is not on S3: priced as if its packs were in ${coldClass} ` +
          `(the repository's cold class) on S3 in ${region}, and nothing is billed`,
      }
      : {}),
  };
}

/**
 * The table of `region`: the cached refresh (`permafrost prices refresh`, at
 * {@link cachedPricePath}) when it is valid and at least as new as the shipped table, else the
 * shipped table; a cached file that cannot be read or does not load is passed over with a
 * warning to `onWarning`. {@link InvalidRequest} naming the known regions for any other region.
 */
export function priceTableOf(
  region: string,
  options: { onWarning?: (message: string) => void } = {},
): PriceTable {
  knownRegion(region);
  const warn = options.onWarning ?? (() => {});
  let cached: CachedPriceFile | undefined;
  let path: string | undefined;
  try {
    path = cachedPricePath(region);
    cached = { path, json: JSON.parse(Deno.readTextFileSync(path)) };
  } catch (err) {
    if (path !== undefined && !(err instanceof Deno.errors.NotFound)) {
      warn(
        `ignoring the cached price table "${path}" (${
          err instanceof Error ? err.message : err
        }); using the shipped table`,
      );
    }
  }
  const { table, warning } = preferredPriceTable(region, cached);
  if (warning) warn(warning);
  return table;
}

/** Where `prices refresh` keeps `region`'s table: `<cache dir>/prices/<region>.json`. */
export function cachedPricePath(region: string): string {
  return join(defaultCacheDir(), "prices", `${region}.json`);
}

/** {@link InvalidRequest} naming the known regions unless `region` has a shipped table. */
export function knownRegion(region: string): void {
  if (!shippedRegions.includes(region)) {
    throw new InvalidRequest(
      `no price table for region "${region}"; known regions: ${shippedRegions.join(", ")}`,
    );
  }
}
