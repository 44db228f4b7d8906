/**
 * The batch and in-region cost vectors (`testdata/batch_vectors.json`): a Batch Operations
 * restore's own lines (`batchItems`), and a finished in-region task's compute (`fargateItems`,
 * what `--in-region` reports), priced with the shipped table of the vector's region.
 *
 * @module
 */

import assert from "node:assert/strict";
import { batchItems } from "./batch_cost.ts";
import { fargateItems } from "./fargate.ts";
import { shippedPriceTable } from "./price_table.ts";
import file from "./testdata/batch_vectors.json" with { type: "json" };

for (const v of file.vectors) {
  Deno.test(`cost vector: ${v.name}`, () => {
    const table = shippedPriceTable(v.region);
    const items = v.kind === "batch"
      ? batchItems(v.objects!, table)
      : fargateItems(v.seconds! / 3600, { vcpu: v.vcpu!, memoryGB: v.memory_gb! }, table);
    assert.deepEqual(
      items.map((i) => ({ what: i.what, quantity: i.quantity, usd: i.usd })),
      v.items,
    );
  });
}
