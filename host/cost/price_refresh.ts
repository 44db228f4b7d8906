/**
 * Refreshing a region's price table from the AWS Price List Query API (docs/cost-model.md §12).
 *
 * Pure: {@link refreshPriceTable} takes the table in use and the `PriceList` strings that
 * GetProducts returned (each one product's JSON: `product.attributes.usagetype`, and
 * `terms.OnDemand.<offer>.priceDimensions.<rate>` with `unit`, `beginRange`, `endRange` and
 * `pricePerUnit.USD`), and returns a region file in the shipped format with the figures the
 * API answered replaced, and which figures were refreshed and which kept. The command that
 * calls the API and writes the cache is `host/cli/cmd_prices.ts`.
 *
 * What is refreshed, by S3 usage type (without the region prefix, e.g. "USW2-"):
 * storage per GB-month per class (every band whose upper bound matches the shipped band's),
 * PUT (`Requests-…Tier1`) and GET (`Requests-…Tier2`) per 1,000 requests per class, retrieval
 * per GB of STANDARD_IA and GLACIER_IR, and restore requests per 1,000 and retrieval per GB per
 * archive class and tier. A figure the answer does not price, or prices twice differently (a
 * usage type shared by two operations), keeps its shipped value; so does everything the API
 * is not asked for (lifecycle transitions, egress, compute).
 *
 * @module
 */

import type { Figure, PriceTable } from "./price_table.ts";

/** A figure's place in a region file, e.g. `["requests_per_1000", "GLACIER", "put"]`. */
type Path = (string | number)[];

/** What the refresh did to one figure. */
export interface FigureChange {
  /** The figure's path in the region file, e.g. `storage_gb_month.DEEP_ARCHIVE[0].usd`. */
  path: string;
  /** Refreshed: the value before and after. Kept: why. */
  before?: number;
  after?: number;
  reason?: string;
}

/** A refreshed region file and what changed. */
export interface RefreshResult {
  /** The region file (the shipped format, `format: 1`), to write to the cache. */
  file: Record<string, unknown>;
  refreshed: FigureChange[];
  kept: FigureChange[];
}

/** One price the answer gave for one figure. */
interface Candidate {
  value: number;
  serviceCode: string;
  sku: string;
  usagetype: string;
  rateCode: string;
  description: string;
}

/** Which unit a figure's price dimensions must be in, and the factor to our unit. */
const units = {
  storage: { unit: "GB-Mo", factor: 1 },
  requests: { unit: "Requests", factor: 1000 },
  perGB: { unit: "GB", factor: 1 },
} as const;
type Kind = keyof typeof units;

/** Usage types (without the region prefix) with one figure each. */
const byUsageType: Record<string, { kind: Kind; path: Path }> = {
  "Requests-Tier1": { kind: "requests", path: ["requests_per_1000", "STANDARD", "put"] },
  "Requests-Tier2": { kind: "requests", path: ["requests_per_1000", "STANDARD", "get"] },
  "Requests-SIA-Tier1": { kind: "requests", path: ["requests_per_1000", "STANDARD_IA", "put"] },
  "Requests-SIA-Tier2": { kind: "requests", path: ["requests_per_1000", "STANDARD_IA", "get"] },
  "Requests-GIR-Tier1": { kind: "requests", path: ["requests_per_1000", "GLACIER_IR", "put"] },
  "Requests-GIR-Tier2": { kind: "requests", path: ["requests_per_1000", "GLACIER_IR", "get"] },
  "Requests-GLACIER-Tier1": { kind: "requests", path: ["requests_per_1000", "GLACIER", "put"] },
  "Requests-GLACIER-Tier2": { kind: "requests", path: ["requests_per_1000", "GLACIER", "get"] },
  "Requests-GDA-Tier1": { kind: "requests", path: ["requests_per_1000", "DEEP_ARCHIVE", "put"] },
  "Requests-GDA-Tier2": { kind: "requests", path: ["requests_per_1000", "DEEP_ARCHIVE", "get"] },
  // Restore requests. Requests-Tier3 is also billed for lifecycle transitions into the archive
  // classes: when the answer prices the two differently, the figure is kept.
  "Requests-Tier3": { kind: "requests", path: ["restore", "GLACIER", "standard", "per_1000"] },
  "Requests-Tier5": { kind: "requests", path: ["restore", "GLACIER", "bulk", "per_1000"] },
  "Requests-Tier6": { kind: "requests", path: ["restore", "GLACIER", "expedited", "per_1000"] },
  "Requests-GDA-Tier3": {
    kind: "requests",
    path: ["restore", "DEEP_ARCHIVE", "standard", "per_1000"],
  },
  "Requests-GDA-Tier5": { kind: "requests", path: ["restore", "DEEP_ARCHIVE", "bulk", "per_1000"] },
  "Retrieval-SIA": { kind: "perGB", path: ["retrieval_per_gb", "STANDARD_IA"] },
  "Retrieval-GIR": { kind: "perGB", path: ["retrieval_per_gb", "GLACIER_IR"] },
};

/** Storage usage types: the class whose price bands they give. */
const storageUsageTypes: Record<string, string> = {
  "TimedStorage-ByteHrs": "STANDARD",
  "TimedStorage-SIA-ByteHrs": "STANDARD_IA",
  "TimedStorage-GIR-ByteHrs": "GLACIER_IR",
  "TimedStorage-GlacierByteHrs": "GLACIER",
  "TimedStorage-GDA-ByteHrs": "DEEP_ARCHIVE",
};

/**
 * Retrieval per GB of the archive classes: GLACIER and DEEP_ARCHIVE share these usage types,
 * so the product's `volumeType` (or `storageClass`) attribute or its service code says which.
 */
const retrievalUsageTypes: Record<string, string> = {
  "Expedited-Retrieval-Bytes": "expedited",
  "Standard-Retrieval-Bytes": "standard",
  "Bulk-Retrieval-Bytes": "bulk",
};

/** The figure paths a refresh asks the API for, in the region file `file`. */
function targets(file: Record<string, unknown>): Path[] {
  const out: Path[] = [];
  const storage = file.storage_gb_month as Record<string, unknown[]>;
  for (const c of Object.values(storageUsageTypes)) {
    storage[c]?.forEach((_, i) => out.push(["storage_gb_month", c, i, "usd"]));
  }
  for (const { path } of Object.values(byUsageType)) out.push(path);
  for (const c of ["GLACIER", "DEEP_ARCHIVE"]) {
    for (const tier of Object.values(retrievalUsageTypes)) {
      out.push(["restore", c, tier, "per_gb"]);
    }
  }
  return out.filter((p) => get(file, p) !== undefined);
}

/**
 * The region file of `table` (the shipped format) with every figure the GetProducts answer
 * `priceList` gives for `table.region` replaced by the API's price, dated `date`
 * (YYYY-MM-DD), `source` "AWS Price List API (GetProducts <service>), <sku>", `verified`, and
 * `seen_in` naming the usage type and rate code. Products of other regions are skipped. Throws
 * a `SyntaxError` naming the entry when an entry is not JSON. Steps: every price the answer
 * gives ({@link collectCandidates}), then each figure asked for, refreshed or kept
 * ({@link applyCandidates}).
 */
export function refreshPriceTable(
  table: PriceTable,
  priceList: readonly string[],
  date: string,
): RefreshResult {
  const file = regionFileOf(table);
  const found = collectCandidates(table, file, priceList);
  const { refreshed, kept } = applyCandidates(table, file, found, date);
  file.date = date;
  return { file, refreshed, kept };
}

/**
 * The prices `priceList` gives for `table.region`, by figure (its `show`n path); a figure may
 * get several. A `SyntaxError` naming the entry when an entry is not JSON.
 */
function collectCandidates(
  table: PriceTable,
  file: Record<string, unknown>,
  priceList: readonly string[],
): Map<string, Candidate[]> {
  const found = new Map<string, Candidate[]>();
  priceList.forEach((text, i) => {
    let entry: PriceListEntry;
    try {
      entry = JSON.parse(text);
    } catch (err) {
      throw new SyntaxError(
        `price list entry ${i} is not JSON: ${err instanceof Error ? err.message : err}`,
      );
    }
    for (const [path, c] of entryCandidates(table, file, entry)) {
      const key = show(path);
      found.set(key, [...found.get(key) ?? [], c]);
    }
  });
  return found;
}

/**
 * The figures one product prices, none when it is another region's: every storage band of its
 * class whose upper bound matches the file's; the first band of a request or retrieval price;
 * an archive restore's retrieval per GB when the product says which archive class it is.
 */
function entryCandidates(
  table: PriceTable,
  file: Record<string, unknown>,
  entry: PriceListEntry,
): [Path, Candidate][] {
  const attributes = entry.product?.attributes ?? {};
  const inRegion = attributes.regionCode !== undefined
    ? attributes.regionCode === table.region
    : attributes.location === table.name;
  if (!inRegion) return [];
  const usagetype = stripRegion(attributes.usagetype ?? "");
  const serviceCode = entry.serviceCode ?? attributes.servicecode ?? "AmazonS3";
  const of: CandidateOf = {
    serviceCode,
    sku: entry.product?.sku ?? "unknown SKU",
    usagetype: attributes.usagetype ?? usagetype,
  };
  const dims = dimensionsOf(entry);
  const firstBand = (kind: Kind) => {
    const d = dims.find((d) => Number(d.beginRange ?? "0") === 0);
    return d && candidate(d, kind, of);
  };
  const out: [Path, Candidate][] = [];
  const storageClass = storageUsageTypes[usagetype];
  const one = byUsageType[usagetype];
  const tier = retrievalUsageTypes[usagetype];
  if (storageClass !== undefined) {
    const bands = (file.storage_gb_month as Record<string, { up_to_gb: number | null }[]>)[
      storageClass
    ];
    bands?.forEach((band, b) => {
      const d = dims.find((d) => upper(d.endRange) === band.up_to_gb);
      const c = d && candidate(d, "storage", of);
      if (c) out.push([["storage_gb_month", storageClass, b, "usd"], c]);
    });
  } else if (one !== undefined) {
    const c = firstBand(one.kind);
    if (c) out.push([one.path, c]);
  } else if (tier !== undefined) {
    const archive = archiveClassOf(serviceCode, attributes);
    const c = firstBand("perGB");
    if (archive && c) out.push([["restore", archive, tier, "per_gb"], c]);
  }
  return out;
}

/** What a candidate carries from its product. */
type CandidateOf = Pick<Candidate, "serviceCode" | "sku" | "usagetype">;

/** The price of dimension `d` in our unit for `kind`; none in another unit or without USD. */
function candidate(d: Dimension, kind: Kind, of: CandidateOf): Candidate | undefined {
  const { unit, factor } = units[kind];
  const usd = Number(d.pricePerUnit?.USD);
  if (d.unit !== unit || d.pricePerUnit?.USD === undefined || !Number.isFinite(usd)) {
    return undefined;
  }
  return {
    value: Number((usd * factor).toPrecision(12)),
    ...of,
    rateCode: d.rateCode ?? "",
    description: d.description ?? "",
  };
}

/**
 * Replaces in `file` each figure asked for that the answer prices once; keeps (with the reason)
 * one it prices not at all or differently twice, and every figure not asked for.
 */
function applyCandidates(
  table: PriceTable,
  file: Record<string, unknown>,
  found: Map<string, Candidate[]>,
  date: string,
): { refreshed: FigureChange[]; kept: FigureChange[] } {
  const refreshed: FigureChange[] = [];
  const kept: FigureChange[] = [];
  const asked = new Set<string>();
  for (const path of targets(file)) {
    const key = show(path);
    asked.add(key);
    const before = (get(file, path) as Figure).value;
    const candidates = found.get(key) ?? [];
    const prices = [...new Set(candidates.map((c) => c.value))];
    if (prices.length === 1) {
      const c = candidates[0];
      set(
        file,
        path,
        {
          value: c.value,
          source: `AWS Price List API (GetProducts ${c.serviceCode}), ${c.sku}`,
          date,
          verified: true,
          seen_in:
            `GetProducts ${table.region}: usage type ${c.usagetype}, rate code ${c.rateCode}` +
            (c.description ? ` ("${c.description}")` : ""),
        } satisfies Figure,
      );
      refreshed.push({ path: key, before, after: c.value });
    } else {
      kept.push({
        path: key,
        reason: prices.length === 0
          ? "the API's answer has no price for it; shipped value kept"
          : `the API's answer gives ${prices.length} prices (${
            candidates.map((c) => `${c.sku}: ${c.value}`).join(", ")
          }); shipped value kept`,
      });
    }
  }
  for (const path of figurePaths(file)) {
    const key = show(path);
    if (!asked.has(key)) {
      kept.push({ path: key, reason: "not asked of the API; shipped value kept" });
    }
  }
  return { refreshed, kept };
}

/** `table` as a region file (the shipped `<region>.json` format): without the rules. */
export function regionFileOf(table: PriceTable): Record<string, unknown> {
  const { rules: _rules, origin: _origin, ...prices } = table;
  return structuredClone({ format: 1, ...prices, currency: "USD" });
}

interface Dimension {
  unit?: string;
  beginRange?: string;
  endRange?: string;
  description?: string;
  rateCode?: string;
  pricePerUnit?: { USD?: string };
}

interface PriceListEntry {
  serviceCode?: string;
  product?: { sku?: string; attributes?: Record<string, string> };
  terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, Dimension> }> };
}

/** The on-demand price dimensions of one product (reserved terms are not S3's). */
function dimensionsOf(entry: PriceListEntry): Dimension[] {
  return Object.values(entry.terms?.OnDemand ?? {}).flatMap((term) =>
    Object.values(term.priceDimensions ?? {})
  );
}

/** "USW2-Requests-Tier1" → "Requests-Tier1"; us-east-1's usage types may have no prefix. */
function stripRegion(usagetype: string): string {
  return usagetype.replace(/^[A-Z]{2,4}\d?-(?=[A-Z][a-z])/, "");
}

/** `endRange` as our `up_to_gb`: "Inf" is the unbounded last band. */
function upper(end: string | undefined): number | null | undefined {
  if (end === undefined || end === "Inf") return null;
  const n = Number(end);
  return Number.isFinite(n) ? n : undefined;
}

function archiveClassOf(
  serviceCode: string,
  attributes: Record<string, string>,
): "GLACIER" | "DEEP_ARCHIVE" | undefined {
  if (serviceCode === "AmazonS3GlacierDeepArchive") return "DEEP_ARCHIVE";
  const said = `${attributes.volumeType ?? ""} ${attributes.storageClass ?? ""}`;
  if (/deep archive/i.test(said)) return "DEEP_ARCHIVE";
  if (/glacier/i.test(said) && !/instant/i.test(said)) return "GLACIER";
  return undefined;
}

function show(path: Path): string {
  return path.map((k, i) => typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`).join("");
}

function get(o: unknown, path: Path): unknown {
  let v = o;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

function set(o: Record<string, unknown>, path: Path, value: unknown): void {
  const parent = get(o, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]] = value;
}

/** Every figure (an object with `value` and `source`) in a region file. */
function figurePaths(v: unknown, at: Path = []): Path[] {
  if (typeof v !== "object" || v === null) return [];
  if ("value" in v && "source" in v) return [at];
  return Array.isArray(v)
    ? v.flatMap((x, i) => figurePaths(x, [...at, i]))
    : Object.entries(v).flatMap(([k, x]) => figurePaths(x, [...at, k]));
}
