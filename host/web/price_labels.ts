/**
 * How a figure of the price table reads to a person: the group it belongs to, a label in words
 * ("S3 Glacier Deep Archive, Bulk tier, per GB" rather than `restore.DEEP_ARCHIVE.bulk.per_gb`)
 * and its value with its unit ("$0.0025 per GB", "180 days"). The keys stay machine names in
 * the table and the JSON API; only the page speaks in words.
 *
 * @module
 */

import type { PriceTable } from "../cost/mod.ts";
import type { Tier } from "../cost/price_table.ts";
import { bytes } from "./format.ts";

/** A figure as the prices page shows it. */
export interface FigureReading {
  group: string;
  label: string;
  /** The value with its unit. */
  value: string;
}

/** The groups, in the order the page shows them. */
export const GROUPS = [
  "Storage",
  "Requests",
  "Lifecycle transitions",
  "Retrieval from infrequent-access classes",
  "Restore from archive",
  "Batch Operations",
  "Data transfer out",
  "Compute for a restore job in the region",
  "Rules (the same in every region)",
  "Other",
] as const;

/** AWS's names for the storage classes the table keys by their API names. */
const CLASS_NAMES: Record<string, string> = {
  STANDARD: "S3 Standard",
  STANDARD_IA: "S3 Standard-IA",
  GLACIER_IR: "S3 Glacier Instant Retrieval",
  GLACIER: "S3 Glacier Flexible Retrieval",
  DEEP_ARCHIVE: "S3 Glacier Deep Archive",
};

/** The words for the table's enumerated values. */
const VALUE_WORDS: Record<string, string> = {
  remaining_days: "the days left are billed",
  parts_plus_two: "one per part, plus two",
};

/** A storage class by its AWS name; an unknown one as it is. */
export function className(id: string): string {
  return CLASS_NAMES[id] ?? id;
}

/** `text` (a figure's note) with storage class ids and table keys in words. */
export function inWords(text: string): string {
  return text
    .replace(/\b(STANDARD_IA|GLACIER_IR|DEEP_ARCHIVE|GLACIER|STANDARD)\b/g, (id) => className(id))
    .replace(/\barchive_overhead\b/g, "the archived-object overhead (under Rules)");
}

/** The figure at `path` (its keys from the table's root) of `table`, in words. */
export function readFigure(path: string[], value: unknown, table: PriceTable): FigureReading {
  const [head, ...rest] = path;
  const read = Object.hasOwn(readers, head) ? readers[head](rest, value, table) : undefined;
  return read ?? {
    group: "Other",
    label: path.map((k) => k.replaceAll("_", " ")).join(", "),
    value: plain(value),
  };
}

type Reader = (path: string[], value: unknown, table: PriceTable) => FigureReading | undefined;

const readers: Record<string, Reader> = {
  storage_gb_month: ([cls, i], v, t) => ({
    group: "Storage",
    label: className(cls) + band(t.storage_gb_month[cls as "STANDARD"], Number(i)),
    value: `${dollars(v)} per GB-month`,
  }),
  requests_per_1000: ([cls, kind], v) => ({
    group: "Requests",
    label: `${className(cls)}, ${kind === "put" ? "PUT, COPY, POST, LIST" : "GET and all other"}`,
    value: `${dollars(v)} per 1,000`,
  }),
  transition_per_1000: ([cls], v) => ({
    group: "Lifecycle transitions",
    label: `Into ${className(cls)}`,
    value: `${dollars(v)} per 1,000 objects`,
  }),
  retrieval_per_gb: ([cls], v) => ({
    group: "Retrieval from infrequent-access classes",
    label: className(cls),
    value: `${dollars(v)} per GB read`,
  }),
  restore: ([cls, tier, what], v) => ({
    group: "Restore from archive",
    label: `${className(cls)}, ${capital(tier)} tier, ${
      what === "per_gb" ? "data" : "restore requests"
    }`,
    value: `${dollars(v)} ${what === "per_gb" ? "per GB" : "per 1,000"}`,
  }),
  batch_operations: ([key], v) => ({
    group: "Batch Operations",
    label: key === "per_job" ? "One job" : "Objects a job processes",
    value: key === "per_job" ? `${dollars(v)} per job` : `${dollars(v)} per million objects`,
  }),
  egress_internet: ([key, i], v, t) =>
    key === "free_gb_month"
      ? {
        group: "Data transfer out",
        label: "To the internet, free each month",
        value: `${plain(v)} GB`,
      }
      : {
        group: "Data transfer out",
        label: `To the internet${band(t.egress_internet.tiers, Number(i))}`,
        value: `${dollars(v)} per GB`,
      },
  egress_same_region_per_gb: (_p, v) => ({
    group: "Data transfer out",
    label: "To a job in the same region",
    value: `${dollars(v)} per GB`,
  }),
  fargate: ([key], v) => ({
    group: "Compute for a restore job in the region",
    label: key === "vcpu_hour" ? "Fargate, one vCPU" : "Fargate, one GB of memory",
    value: `${dollars(v)} per hour`,
  }),
  ec2_reference: (_p, v, t) => ({
    group: "Compute for a restore job in the region",
    label:
      `EC2 ${t.ec2_reference.instance} (${t.ec2_reference.vcpu} vCPU, ${t.ec2_reference.memory_gib} GiB), for comparison`,
    value: `${dollars(v)} per hour`,
  }),
  rules: readRule,
};

function readRule(path: string[], v: unknown): FigureReading | undefined {
  const rule = (label: string, value: string) => ({
    group: "Rules (the same in every region)",
    label,
    value,
  });
  const [key, cls, what] = path;
  switch (key) {
    case "gb_bytes":
      return rule("A billed GB", `${Number(v).toLocaleString("en-US")} bytes`);
    case "classes":
      return what === "min_days"
        ? rule(`${className(cls)}: minimum storage duration`, v ? `${plain(v)} days` : "none")
        : rule(`${className(cls)}: minimum billed object size`, v ? bytes(Number(v)) : "none");
    case "early_deletion":
      return rule("Deleting or moving an object before its minimum duration", plain(v));
    case "archive_overhead":
      return rule(
        cls === "standard_bytes"
          ? "Each archived object: overhead billed at S3 Standard rates"
          : "Each archived object: overhead billed at its archive class's rate",
        bytes(Number(v)),
      );
    case "restored_copy_class":
      return rule("A restored copy is billed as", className(String(v)));
    case "delete_per_1000":
      return rule("DELETE requests", `${dollars(v)} per 1,000`);
    case "multipart_requests":
      return rule("Requests billed for one multipart upload", plain(v));
    case "archived_multipart_class":
      return rule(
        "Multipart upload into an archive class: starting it and each part billed at the PUT rate of",
        className(String(v)),
      );
  }
  return undefined;
}

/**
 * ", first 50 TB", ", next 450 TB", ", over 500 TB": band `i` of cumulative `tiers`; nothing
 * when there is a single band without a limit.
 */
function band(tiers: Tier[] | undefined, i: number): string {
  const t = tiers?.[i];
  if (!tiers || !t) return "";
  const from = i > 0 ? tiers[i - 1].up_to_gb ?? 0 : 0;
  if (t.up_to_gb === null) return i === 0 ? "" : `, over ${gb(from)}`;
  return i === 0 ? `, first ${gb(t.up_to_gb)}` : `, next ${gb(t.up_to_gb - from)}`;
}

/** 51200 → "50 TB", 100 → "100 GB" (AWS's TB is 1,024 GB). */
function gb(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} TB` : `${n} GB`;
}

/** A unit price as the table gives it: $0.00099, $0.05, $10. */
function dollars(v: unknown): string {
  return `$${Number(v).toLocaleString("en-US", { maximumFractionDigits: 8 })}`;
}

function plain(v: unknown): string {
  const s = String(v);
  return VALUE_WORDS[s] ?? (typeof v === "number" ? v.toLocaleString("en-US") : s);
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
