/**
 * The sync cost vectors (`testdata/sync_vectors.json`): the early-deletion lines a later
 * `sync prune` of a sync backup's replaced versions would owe (`replacedVersionItems`), priced
 * with the shipped table of the vector's region.
 *
 * @module
 */

import assert from "node:assert/strict";
import { shippedPriceTable } from "./price_table.ts";
import { type ReplacedObject, replacedVersionItems } from "./sync_cost.ts";
import file from "./testdata/sync_vectors.json" with { type: "json" };

for (const v of file.vectors) {
  Deno.test(`cost vector: ${v.name}`, () => {
    const items = replacedVersionItems(
      v.replaced as ReplacedObject[],
      shippedPriceTable(v.region),
    );
    assert.deepEqual(
      items.map((i) => ({ what: i.what, quantity: i.quantity, usd: i.usd })),
      v.items,
    );
  });
}
