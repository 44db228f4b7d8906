/**
 * What a restore into S3 adds to its bill (docs/cost-model.md §10.2a): the requests that write
 * its objects (one per file and the manifest, or a multipart upload for a large file, as the
 * upload rule sends them: plugins/sdk/upload_plan.ts) and a month of their storage in the
 * target class. Reading the packs is priced as for any restore; in the region the job's compute
 * replaces the egress (§6.2).
 *
 * @module
 */

import { uploadPlan } from "../../plugins/sdk/upload_plan.ts";
import type { StorageClass } from "../storage/storage.ts";
import type { Assumptions } from "./assumptions.ts";
import { type LineItem, lineItem } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import { archiveOverheadItems, billableGB, storageItems } from "./store_cost.ts";

/** The objects a restore into S3 writes: each file's size (the manifest is added here). */
export interface TargetWrite {
  /** Bytes of each file, one entry per object. */
  sizes: number[];
  storageClass: StorageClass;
  /** Months of storage priced (default 1). */
  months?: number;
}

/**
 * §10.2a The PUT-class requests and the storage of the objects `w` writes, plus the manifest
 * (one small PutObject). A multipart upload of an archive class pays STANDARD rates for its
 * create and parts and the class's for its completion, as putItems (§3.4) prices them.
 */
export function restoreTargetItems(
  w: TargetWrite,
  table: PriceTable,
  upload: Assumptions["upload"],
): LineItem[] {
  const c = w.storageClass;
  const rate = (k: StorageClass) => table.requests_per_1000[k].put.value;
  let puts = 1; // the manifest
  let multipart = 0, parts = 0;
  for (const size of w.sizes) {
    const plan = uploadPlan(size, upload);
    if (plan.method === "put") puts++;
    else {
      multipart++;
      parts += plan.parts;
    }
  }
  const files = `${multipart} file${multipart === 1 ? "" : "s"}`;
  const items = [lineItem(`PUT requests, ${c}`, puts / 1000, "1,000 requests", rate(c))];
  if (multipart > 0) {
    if (table.rules.classes[c].archived) {
      const partsClass = table.rules.archived_multipart_class.value;
      items.push(
        lineItem(
          `multipart create + parts (${files}, ${parts} parts), at ${partsClass} rates`,
          (multipart + parts) / 1000,
          "1,000 requests",
          rate(partsClass),
        ),
        lineItem(`multipart completions, ${c}`, multipart / 1000, "1,000 requests", rate(c)),
      );
    } else {
      items.push(lineItem(
        `multipart upload requests (${files}, ${parts} parts + 2 each), ${c}`,
        (parts + 2 * multipart) / 1000,
        "1,000 requests",
        rate(c),
      ));
    }
  }
  const objects = w.sizes.length + 1;
  const bytes = w.sizes.reduce((a, b) => a + b, 0);
  const months = w.months ?? 1;
  return [
    ...items,
    ...storageItems(billableGB(bytes, objects, c, table), months, c, table),
    ...archiveOverheadItems(objects, months, c, table),
  ];
}
