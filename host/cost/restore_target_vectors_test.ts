/**
 * The restore-into-S3 cost vectors (`testdata/restore_target_vectors.json`): the request and
 * storage lines a restore into S3 adds (`restoreTargetItems`), with the default upload rule and
 * the shipped table of the vector's region.
 *
 * @module
 */

import assert from "node:assert/strict";
import { defaultUploadRule } from "../../plugins/sdk/upload_plan.ts";
import type { StorageClass } from "../storage/storage.ts";
import { shippedPriceTable } from "./price_table.ts";
import { restoreTargetItems } from "./restore_target_cost.ts";
import file from "./testdata/restore_target_vectors.json" with { type: "json" };

for (const v of file.vectors) {
  Deno.test(`restore target vector: ${v.name}`, () => {
    const sizes = v.files.flatMap((f) => Array<number>(f.count).fill(f.bytes));
    const items = restoreTargetItems(
      { sizes, storageClass: v.storage_class as StorageClass, months: v.months },
      shippedPriceTable(v.region),
      defaultUploadRule,
    );
    assert.deepEqual(
      items.map((i) => ({ what: i.what, quantity: i.quantity, usd: i.usd })),
      v.items,
    );
  });
}
