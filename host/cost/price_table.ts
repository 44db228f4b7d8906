/**
 * The price table: what AWS charges in one region, as data (docs/cost-model.md §2).
 *
 * Two kinds of JSON files under `host/cost/prices/`:
 * - `rules.json`: facts that are the same in every region (minimum storage durations, minimum
 *   billable object sizes, the early-deletion rule, the archived-object overhead, the class the
 *   restored copy is billed at, how multipart uploads are billed, the size of a billed GB);
 * - `<region>.json`: the region's prices (storage per GB-month, requests, lifecycle
 *   transitions, retrieval, restore tiers, egress tiers, Fargate and a reference EC2 instance).
 *
 * Every figure is a {@link Figure}: its value, the AWS page it comes from (`source`), the date
 * it was last checked, and whether it was `verified` (read in a stored copy of a page, named in
 * `seen_in`) or is a best-known figure. {@link parsePriceTable} checks a region file and the
 * rules before anything uses them; a malformed table is a `TypeError` naming the file and the
 * field. A figure refreshed from the AWS Price List API (`permafrost prices refresh`,
 * `price_refresh.ts`) has the source "AWS Price List API (GetProducts AmazonS3), <sku>" instead
 * of a URL; {@link preferredPriceTable} picks such a cached table over the shipped one when it
 * loads and is at least as new (docs/cost-model.md §12). Restore tier *times* are not here: they come from `host/cold/restore_times.ts`, which
 * `restore` also uses, and the table must price exactly the tiers that file lists.
 *
 * @module
 */

import { type StorageClass, storageClasses } from "../storage/storage.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { tiersOf } from "../cold/restore_times.ts";
import rulesJson from "./prices/rules.json" with { type: "json" };
import usEast1 from "./prices/us-east-1.json" with { type: "json" };
import usWest2 from "./prices/us-west-2.json" with { type: "json" };
import euWest1 from "./prices/eu-west-1.json" with { type: "json" };
import euCentral1 from "./prices/eu-central-1.json" with { type: "json" };

/** One figure and where it comes from. */
export interface Figure<T = number> {
  value: T;
  /** The AWS page (pricing page or documentation) the figure belongs to. */
  source: string;
  /** When the figure was last checked (YYYY-MM-DD). */
  date: string;
  /** True when the figure was read in a stored copy of a page (`seen_in`); false: best known. */
  verified: boolean;
  seen_in?: string;
  note?: string;
}

/** A price band: `usd` per unit up to `up_to_gb` (cumulative; `null`: no upper bound). */
export interface Tier {
  up_to_gb: number | null;
  usd: Figure;
}

/** The two prices of one restore tier. */
export interface RestorePrice {
  per_gb: Figure;
  per_1000: Figure;
}

/** What one storage class is, everywhere (rules.json). */
export interface ClassRules {
  /** Archived objects must be restored before they can be read (GLACIER, DEEP_ARCHIVE). */
  archived: boolean;
  min_days: Figure;
  min_object_bytes: Figure;
}

/** Region-independent facts (rules.json). */
export interface Rules {
  /** Bytes in a billed GB. */
  gb_bytes: Figure;
  classes: Record<StorageClass, ClassRules>;
  /** Deleting, overwriting or transitioning early is billed for the remaining days. */
  early_deletion: Figure<"remaining_days">;
  /** Per archived object: bytes billed at STANDARD rates, and at the archive class's rate. */
  archive_overhead: { standard_bytes: Figure; archive_bytes: Figure };
  /** The class whose storage rate the temporary restored copy is billed at. */
  restored_copy_class: Figure<StorageClass>;
  delete_per_1000: Figure;
  /** How a multipart upload is billed: one PUT-class request per part, plus two. */
  multipart_requests: Figure<"parts_plus_two">;
  /**
   * For an archived class, the class whose PUT rate CreateMultipartUpload and UploadPart pay
   * (STANDARD); CompleteMultipartUpload pays the archive class's rate.
   */
  archived_multipart_class: Figure<StorageClass>;
}

/** One region's prices merged with the rules: everything the model needs. */
export interface PriceTable {
  region: string;
  /** AWS's name for the region, e.g. "US East (N. Virginia)". */
  name: string;
  /** When the table was compiled (YYYY-MM-DD). */
  date: string;
  /** Which table this is, e.g. "shipped table host/cost/prices/us-east-1.json". */
  origin: string;
  rules: Rules;
  storage_gb_month: Record<StorageClass, Tier[]>;
  requests_per_1000: Record<StorageClass, { put: Figure; get: Figure }>;
  /** Lifecycle transition into the class, per 1,000 objects. */
  transition_per_1000: Partial<Record<StorageClass, Figure>>;
  /** Per-GB fee for reading the non-archived infrequent classes. */
  retrieval_per_gb: Partial<Record<StorageClass, Figure>>;
  restore: Partial<Record<StorageClass, Partial<Record<RestoreTier, RestorePrice>>>>;
  egress_internet: { free_gb_month: Figure; tiers: Tier[] };
  egress_same_region_per_gb: Figure;
  fargate: { vcpu_hour: Figure; gb_hour: Figure };
  ec2_reference: { instance: string; vcpu: number; memory_gib: number; hour: Figure };
  /**
   * S3 Batch Operations (docs/cost-model.md §4.6): a fee per job and per million objects the job
   * processes; the operation's own requests (a RestoreObject per object) are billed on top.
   */
  batch_operations: { per_job: Figure; per_million_objects: Figure };
}

const shipped: Record<string, unknown> = {
  "us-east-1": usEast1,
  "us-west-2": usWest2,
  "eu-west-1": euWest1,
  "eu-central-1": euCentral1,
};

/** Regions with a shipped table, in the order they are listed to users. */
export const shippedRegions: readonly string[] = Object.keys(shipped);

/** The shipped table of `region`; a `RangeError` naming the known regions for any other. */
export function shippedPriceTable(region: string): PriceTable {
  const json = shipped[region];
  if (json === undefined) {
    throw new RangeError(
      `no price table for region "${region}"; known regions: ${shippedRegions.join(", ")}`,
    );
  }
  return parsePriceTable(json, rulesJson, `shipped table host/cost/prices/${region}.json`);
}

/** A figure refreshed from the AWS Price List API (host/cost/price_refresh.ts). */
const priceListSource = /^AWS Price List API \(GetProducts \w+\), \S+$/;

/** A region file read from the local cache, as `prices refresh` wrote it. */
export interface CachedPriceFile {
  path: string;
  /** The file's parsed JSON. */
  json: unknown;
}

/**
 * The table `region`'s estimates use: the cached refresh when there is a valid one at least as
 * new as the shipped table (its origin "cached refresh <path> of <date>"), else the shipped
 * table. A cached file that does not load is ignored, and `warning` says why; it is never
 * fatal.
 */
export function preferredPriceTable(
  region: string,
  cached: CachedPriceFile | undefined,
): { table: PriceTable; warning?: string } {
  const table = shippedPriceTable(region);
  if (cached === undefined) return { table };
  let fresh: PriceTable;
  try {
    fresh = parsePriceTable(cached.json, rulesJson, `cached refresh ${cached.path}`);
  } catch (err) {
    return {
      table,
      warning: `ignoring the cached price table "${cached.path}" (${
        err instanceof Error ? err.message : err
      }); using the ${table.origin}`,
    };
  }
  if (fresh.region !== region) {
    return {
      table,
      warning: `ignoring the cached price table "${cached.path}": it is for "${fresh.region}", ` +
        `not "${region}"; using the ${table.origin}`,
    };
  }
  if (fresh.date < table.date) return { table };
  return { table: { ...fresh, origin: `cached refresh ${cached.path} of ${fresh.date}` } };
}

/**
 * Checks a region's price file and the rules and returns them as one {@link PriceTable}.
 * Throws a `TypeError` naming the file (`origin` or `rulesOrigin`) and the first malformed
 * field. Fields are read in the file's order; restore prices ({@link restorePrices}) and
 * transfer and compute ({@link transferPrices}) have steps of their own, and the whole is
 * checked for the tiers and classes the cost model needs ({@link checkCoverage}).
 */
export function parsePriceTable(
  region: unknown,
  rules: unknown,
  origin: string,
  rulesOrigin = "host/cost/prices/rules.json",
): PriceTable {
  const r: Reader = new Reader(origin);
  const t = r.object(region, "");
  if (t.format !== 1) r.fail("format", "must be 1", t.format);
  const regionName = r.string(t.region, "region");
  const table: PriceTable = {
    region: regionName,
    name: r.string(t.name, "name"),
    date: r.date(t.date, "date"),
    origin,
    rules: parseRules(rules, new Reader(rulesOrigin)),
    storage_gb_month: r.perClass(t.storage_gb_month, "storage_gb_month", (v, p) => r.tiers(v, p)),
    requests_per_1000: r.perClass(t.requests_per_1000, "requests_per_1000", (v, p) => {
      const o = r.object(v, p);
      return { put: r.figure(o.put, `${p}.put`), get: r.figure(o.get, `${p}.get`) };
    }),
    transition_per_1000: r.someClasses(
      t.transition_per_1000,
      "transition_per_1000",
      (v, p) => r.figure(v, p),
    ),
    retrieval_per_gb: r.someClasses(
      t.retrieval_per_gb,
      "retrieval_per_gb",
      (v, p) => r.figure(v, p),
    ),
    restore: r.someClasses(t.restore, "restore", (v, p) => restorePrices(r, v, p)),
    ...transferPrices(r, t),
    batch_operations: batchPrices(r, t),
  };
  checkCoverage(r, table);
  return table;
}

/** One class's restore prices at `p`: per GB and per 1,000 requests, for each tier it names. */
function restorePrices(
  r: Reader,
  v: unknown,
  p: string,
): Partial<Record<RestoreTier, RestorePrice>> {
  const o = r.object(v, p);
  const out: Partial<Record<RestoreTier, RestorePrice>> = {};
  for (const [tier, price] of Object.entries(o)) {
    if (tier !== "bulk" && tier !== "standard" && tier !== "expedited") {
      r.fail(`${p}.${tier}`, "is not a restore tier (bulk, standard, expedited)");
    }
    const q = r.object(price, `${p}.${tier}`);
    out[tier] = {
      per_gb: r.figure(q.per_gb, `${p}.${tier}.per_gb`),
      per_1000: r.figure(q.per_1000, `${p}.${tier}.per_1000`),
    };
  }
  return out;
}

/** Internet egress, in-region transfer, Fargate, and the EC2 reference, in that order. */
/** S3 Batch Operations' two fees. */
function batchPrices(r: Reader, t: Record<string, unknown>): PriceTable["batch_operations"] {
  const b = r.object(t.batch_operations, "batch_operations");
  return {
    per_job: r.figure(b.per_job, "batch_operations.per_job"),
    per_million_objects: r.figure(b.per_million_objects, "batch_operations.per_million_objects"),
  };
}

function transferPrices(
  r: Reader,
  t: Json,
): Pick<PriceTable, "egress_internet" | "egress_same_region_per_gb" | "fargate" | "ec2_reference"> {
  const egress = r.object(t.egress_internet, "egress_internet");
  const egress_internet = {
    free_gb_month: r.figure(egress.free_gb_month, "egress_internet.free_gb_month"),
    tiers: r.tiers(egress.tiers, "egress_internet.tiers"),
  };
  const egress_same_region_per_gb = r.figure(
    t.egress_same_region_per_gb,
    "egress_same_region_per_gb",
  );
  const f = r.object(t.fargate, "fargate");
  const fargate = {
    vcpu_hour: r.figure(f.vcpu_hour, "fargate.vcpu_hour"),
    gb_hour: r.figure(f.gb_hour, "fargate.gb_hour"),
  };
  const e = r.object(t.ec2_reference, "ec2_reference");
  return {
    egress_internet,
    egress_same_region_per_gb,
    fargate,
    ec2_reference: {
      instance: r.string(e.instance, "ec2_reference.instance"),
      vcpu: r.positive(e.vcpu, "ec2_reference.vcpu"),
      memory_gib: r.positive(e.memory_gib, "ec2_reference.memory_gib"),
      hour: r.figure(e.hour, "ec2_reference.hour"),
    },
  };
}

/**
 * The table prices exactly the restore tiers restore_times.ts offers, for every class, and
 * retrieval of the classes that charge for it.
 */
function checkCoverage(r: Reader, table: PriceTable): void {
  for (const c of storageClasses) {
    const priced = Object.keys(table.restore[c] ?? {}).sort();
    const offered = [...tiersOf(c)].sort();
    if (priced.join() !== offered.join()) {
      r.fail(
        `restore.${c}`,
        `must price the tiers host/cold/restore_times.ts offers (${offered.join(", ") || "none"})`,
        priced.join(", ") || "none",
      );
    }
  }
  for (const c of ["STANDARD_IA", "GLACIER_IR"] as const) {
    if (!table.retrieval_per_gb[c]) r.fail(`retrieval_per_gb.${c}`, "is missing");
  }
}

function parseRules(json: unknown, r: Reader): Rules {
  const t = r.object(json, "");
  if (t.format !== 1) r.fail("format", "must be 1", t.format);
  const overhead = r.object(t.archive_overhead, "archive_overhead");
  const copy = r.classFigure(t.restored_copy_class, "restored_copy_class");
  const multipartClass = r.classFigure(t.archived_multipart_class, "archived_multipart_class");
  const early = r.textFigure(t.early_deletion, "early_deletion");
  if (early.value !== "remaining_days") {
    r.fail("early_deletion.value", `must be "remaining_days"`, early.value);
  }
  const multipart = r.textFigure(t.multipart_requests, "multipart_requests");
  if (multipart.value !== "parts_plus_two") {
    r.fail("multipart_requests.value", `must be "parts_plus_two"`, multipart.value);
  }
  return {
    gb_bytes: r.figure(t.gb_bytes, "gb_bytes"),
    classes: r.perClass(t.classes, "classes", (v, p) => {
      const o = r.object(v, p);
      if (typeof o.archived !== "boolean") {
        r.fail(`${p}.archived`, "must be true or false", o.archived);
      }
      return {
        archived: o.archived as boolean,
        min_days: r.figure(o.min_days, `${p}.min_days`),
        min_object_bytes: r.figure(o.min_object_bytes, `${p}.min_object_bytes`),
      };
    }),
    early_deletion: early as Figure<"remaining_days">,
    archive_overhead: {
      standard_bytes: r.figure(overhead.standard_bytes, "archive_overhead.standard_bytes"),
      archive_bytes: r.figure(overhead.archive_bytes, "archive_overhead.archive_bytes"),
    },
    restored_copy_class: copy,
    delete_per_1000: r.figure(t.delete_per_1000, "delete_per_1000"),
    multipart_requests: multipart as Figure<"parts_plus_two">,
    archived_multipart_class: multipartClass,
  };
}

type Json = Record<string, unknown>;

/** Marks "no value to show" in {@link Reader.fail}. */
const NOTHING = Symbol("nothing");

/** Reads one file's fields, failing with the file and the field's path. */
class Reader {
  constructor(readonly origin: string) {}

  fail(path: string, problem: string, got: unknown = NOTHING): never {
    const shown = got === NOTHING ? "" : `, got ${JSON.stringify(got) ?? String(got)}`;
    throw new TypeError(`price table "${this.origin}": "${path || "(top)"}" ${problem}${shown}`);
  }

  object(v: unknown, path: string): Json {
    if (v === undefined) this.fail(path, "is missing");
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(path, "must be an object", v);
    }
    return v as Json;
  }

  string(v: unknown, path: string): string {
    if (v === undefined) this.fail(path, "is missing");
    if (typeof v !== "string" || v === "") this.fail(path, "must be a non-empty string", v);
    return v;
  }

  date(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s))) {
      this.fail(path, "must be a date (YYYY-MM-DD)", v);
    }
    return s;
  }

  /** A finite number ≥ 0. */
  amount(v: unknown, path: string): number {
    if (v === undefined) this.fail(path, "is missing");
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      this.fail(path, "must be a number ≥ 0", v);
    }
    return v;
  }

  positive(v: unknown, path: string): number {
    const n = this.amount(v, path);
    if (n === 0) this.fail(path, "must be more than 0", v);
    return n;
  }

  #provenance(o: Json, path: string): Omit<Figure, "value"> {
    const source = this.string(o.source, `${path}.source`);
    if (!/^https?:\/\/\S+$/.test(source) && !priceListSource.test(source)) {
      this.fail(`${path}.source`, "must be a URL or a Price List API SKU", source);
    }
    if (typeof o.verified !== "boolean") {
      this.fail(`${path}.verified`, "must be true or false", o.verified);
    }
    const out: Omit<Figure, "value"> = {
      source,
      date: this.date(o.date, `${path}.date`),
      verified: o.verified,
    };
    if (o.verified && o.seen_in === undefined) {
      this.fail(`${path}.seen_in`, "is missing (a verified figure says where it was read)");
    }
    if (o.seen_in !== undefined) out.seen_in = this.string(o.seen_in, `${path}.seen_in`);
    if (o.note !== undefined) out.note = this.string(o.note, `${path}.note`);
    return out;
  }

  figure(v: unknown, path: string): Figure {
    const o = this.object(v, path);
    return { value: this.amount(o.value, `${path}.value`), ...this.#provenance(o, path) };
  }

  textFigure(v: unknown, path: string): Figure<string> {
    const o = this.object(v, path);
    return { value: this.string(o.value, `${path}.value`), ...this.#provenance(o, path) };
  }

  /** A figure whose value names a storage class. */
  classFigure(v: unknown, path: string): Figure<StorageClass> {
    const f = this.textFigure(v, path);
    if (!(storageClasses as readonly string[]).includes(f.value)) {
      this.fail(`${path}.value`, "must be a storage class", f.value);
    }
    return f as Figure<StorageClass>;
  }

  /** Price bands in increasing order, the last one unbounded. */
  tiers(v: unknown, path: string): Tier[] {
    if (!Array.isArray(v) || v.length === 0) this.fail(path, "must be a non-empty list", v);
    let previous = 0;
    return v.map((item, i) => {
      const p = `${path}[${i}]`;
      const o = this.object(item, p);
      const last = i === v.length - 1;
      if (last && o.up_to_gb !== null) {
        this.fail(`${p}.up_to_gb`, "must be null in the last tier", o.up_to_gb);
      }
      if (!last) {
        const up = this.positive(o.up_to_gb, `${p}.up_to_gb`);
        if (up <= previous) this.fail(`${p}.up_to_gb`, `must be more than ${previous}`, up);
        previous = up;
      }
      return { up_to_gb: last ? null : o.up_to_gb as number, usd: this.figure(o.usd, `${p}.usd`) };
    });
  }

  /** One entry for every storage class, and nothing else. */
  perClass<T>(
    v: unknown,
    path: string,
    read: (v: unknown, path: string) => T,
  ): Record<StorageClass, T> {
    const o = this.object(v, path);
    this.#onlyClasses(o, path);
    return Object.fromEntries(
      storageClasses.map((c) => [c, read(o[c], `${path}.${c}`)]),
    ) as Record<StorageClass, T>;
  }

  /** Entries for some storage classes. */
  someClasses<T>(
    v: unknown,
    path: string,
    read: (v: unknown, path: string) => T,
  ): Partial<Record<StorageClass, T>> {
    const o = this.object(v, path);
    this.#onlyClasses(o, path);
    const out: Partial<Record<StorageClass, T>> = {};
    for (const c of storageClasses) if (o[c] !== undefined) out[c] = read(o[c], `${path}.${c}`);
    return out;
  }

  #onlyClasses(o: Json, path: string): void {
    for (const key of Object.keys(o)) {
      if (!(storageClasses as readonly string[]).includes(key)) {
        this.fail(`${path}.${key}`, `is not a storage class (${storageClasses.join(", ")})`);
      }
    }
  }
}
