/**
 * Storing data: `bytes` in `objects` equal objects of one class for some months
 * (docs/cost-model.md §3). Storage per GB-month, the per-object overhead of archived objects,
 * the PUT-class requests of the uploads (multipart uploads above a threshold), and the minimum
 * storage duration, which is owed even if the objects are deleted sooner.
 *
 * @module
 */

import { uploadPlan } from "../../plugins/sdk/upload_plan.ts";
import type { StorageClass } from "../storage/storage.ts";
import {
  type Assumptions,
  daysToMonths,
  defaultAssumptions,
  transferHours,
} from "./assumptions.ts";
import { type Estimate, estimate, type LineItem, lineItem, tieredItems, toGB } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

export interface StorePlan {
  storageClass: StorageClass;
  bytes: number;
  /** How many objects the bytes are stored as (taken to be of equal size). */
  objects: number;
  months: number;
}

/**
 * §3.1 Billable GB: each object counts at least the class's minimum billable size (128 KB in
 * STANDARD_IA and GLACIER_IR).
 */
export function billableGB(
  bytes: number,
  objects: number,
  storageClass: StorageClass,
  table: PriceTable,
): number {
  const min = table.rules.classes[storageClass].min_object_bytes.value;
  const each = objects === 0 ? 0 : bytes / objects;
  return toGB(objects * Math.max(each, min), table);
}

/** §3.2 Storage: GB × months at the class's rate (one line per price band used). */
export function storageItems(
  gb: number,
  months: number,
  storageClass: StorageClass,
  table: PriceTable,
): LineItem[] {
  return tieredItems(
    `storage, ${storageClass}`,
    gb,
    table.storage_gb_month[storageClass],
    "GB-month",
    months,
  );
}

/**
 * §3.3 Archived objects (GLACIER, DEEP_ARCHIVE) each add 8 KB billed at STANDARD rates and
 * 32 KB at the archive class's rate, for as long as they are stored. None for other classes.
 */
export function archiveOverheadItems(
  objects: number,
  months: number,
  storageClass: StorageClass,
  table: PriceTable,
): LineItem[] {
  if (!table.rules.classes[storageClass].archived) return [];
  const { standard_bytes, archive_bytes } = table.rules.archive_overhead;
  return [
    ...tieredItems(
      `per-object overhead, ${standard_bytes.value / 1024} KB each at STANDARD rates`,
      toGB(objects * standard_bytes.value, table),
      table.storage_gb_month.STANDARD,
      "GB-month",
      months,
    ),
    ...tieredItems(
      `per-object overhead, ${archive_bytes.value / 1024} KB each at ${storageClass} rates`,
      toGB(objects * archive_bytes.value, table),
      table.storage_gb_month[storageClass],
      "GB-month",
      months,
    ),
  ];
}

/**
 * §3.4 How many parts one object of `objectBytes` is uploaded in; 0: a single PutObject. The
 * store's own rule (`uploadPlan`, plugins/sdk/upload_plan.ts), so the estimate counts the
 * requests the store makes.
 */
export function uploadParts(objectBytes: number, upload: Assumptions["upload"]): number {
  const plan = uploadPlan(objectBytes, upload);
  return plan.method === "put" ? 0 : plan.parts;
}

/**
 * §3.4 The PUT-class requests of uploading `objects` objects of `objectBytes`, as the upload
 * rule sends them: one PutObject each, or a multipart upload of CreateMultipartUpload, one
 * UploadPart per part and CompleteMultipartUpload. For an archived class the first two are
 * billed at STANDARD rates and only the completion at the archive class's rate; other classes
 * pay their own rate for all of them.
 */
export function putItems(
  objects: number,
  objectBytes: number,
  storageClass: StorageClass,
  table: PriceTable,
  upload: Assumptions["upload"],
): LineItem[] {
  const rate = (c: StorageClass) => table.requests_per_1000[c].put.value;
  const parts = uploadParts(objectBytes, upload);
  if (parts === 0) {
    return [
      lineItem(
        `PUT requests, ${storageClass}`,
        objects / 1000,
        "1,000 requests",
        rate(storageClass),
      ),
    ];
  }
  if (!table.rules.classes[storageClass].archived) {
    return [lineItem(
      `multipart upload requests (${parts} parts + 2 each), ${storageClass}`,
      objects * (parts + 2) / 1000,
      "1,000 requests",
      rate(storageClass),
    )];
  }
  const partsClass = table.rules.archived_multipart_class.value;
  return [
    lineItem(
      `multipart create + ${parts} parts each, at ${partsClass} rates`,
      objects * (parts + 1) / 1000,
      "1,000 requests",
      rate(partsClass),
    ),
    lineItem(
      `multipart complete, at ${storageClass} rates`,
      objects / 1000,
      "1,000 requests",
      rate(storageClass),
    ),
  ];
}

/**
 * §3.5 Minimum storage duration: stored for fewer months than the class's minimum, the data
 * is billed for the rest anyway (early deletion, §5). Nothing when `months` reaches it.
 */
export function minimumDurationItems(
  gb: number,
  months: number,
  storageClass: StorageClass,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): LineItem[] {
  const minDays = table.rules.classes[storageClass].min_days.value;
  const short = daysToMonths(minDays, a) - months;
  if (short <= 0) return [];
  return tieredItems(
    `minimum storage duration (${minDays} days), the rest billed anyway`,
    gb,
    table.storage_gb_month[storageClass],
    "GB-month",
    short,
  );
}

/** The cost of storing `plan` (uploaded from outside AWS) and how long the upload takes. */
export function estimateStore(
  plan: StorePlan,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Estimate {
  const { storageClass, bytes, objects, months } = plan;
  const gb = billableGB(bytes, objects, storageClass, table);
  return estimate(table, [
    ...storageItems(gb, months, storageClass, table),
    ...archiveOverheadItems(objects, months, storageClass, table),
    ...putItems(objects, objects === 0 ? 0 : bytes / objects, storageClass, table, a.upload),
    ...minimumDurationItems(gb, months, storageClass, table, a),
  ], transferHours(bytes, a.internetMbitPerS));
}
