/**
 * The upload cost vectors (`testdata/upload_vectors.json`): for each, the upload rule the store
 * calls plans the requests the vector says, and the cost model prices them to the vector's
 * lines, with the shipped table of its region.
 *
 * @module
 */

import assert from "node:assert/strict";
import { defaultUploadRule, uploadPlan } from "../../plugins/sdk/upload_plan.ts";
import type { StorageClass } from "../storage/storage.ts";
import { shippedPriceTable } from "./price_table.ts";
import { putItems } from "./store_cost.ts";
import file from "./testdata/upload_vectors.json" with { type: "json" };

for (const v of file.vectors) {
  Deno.test(`upload vector: ${v.name}`, () => {
    const rule = { multipartThreshold: v.rule.multipart_threshold, partSize: v.rule.part_size };
    if ("default" in v.rule && v.rule.default) assert.deepEqual(rule, defaultUploadRule);
    const plan = uploadPlan(v.object_bytes, rule);
    const expected = v.plan.method === "put" ? { method: "put", requests: 1 } : {
      method: "parts",
      partSize: v.plan.part_size,
      parts: v.plan.parts,
      requests: v.plan.requests,
    };
    assert.deepEqual(plan, expected);
    const table = shippedPriceTable(v.region);
    const items = putItems(v.objects, v.object_bytes, v.storage_class as StorageClass, table, rule);
    assert.deepEqual(
      items.map((i) => ({ what: i.what, quantity: i.quantity, usd: i.usd })),
      v.items,
    );
  });
}
