import assert from "node:assert/strict";
import { estimateDelete, remainingDays } from "./delete_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const GiB = 2 ** 30;

Deno.test("deleting 100 GiB of DEEP_ARCHIVE 30 days after upload pays the other 150 days", () => {
  const e = estimateDelete({ storageClass: "DEEP_ARCHIVE", bytes: 100 * GiB, ageDays: 30 }, table);
  // 180 - 30 = 150 days = 5 months; 100 GB × 5 = 500 GB-month × $0.00099 = $0.495
  assert.deepEqual(e.items.map((i) => [i.what, i.quantity, i.unit_usd, i.usd]), [
    ["early deletion, 150 days of the 180-day minimum left", 500, 0.00099, 0.495],
  ]);
  assert.equal(e.total_usd, 0.495);
  assert.deepEqual(e.hours, { min: 0, max: 0 });
});

Deno.test("past the minimum duration deleting is free, DELETE requests included", () => {
  assert.equal(remainingDays(200, "DEEP_ARCHIVE", table), 0);
  const e = estimateDelete(
    { storageClass: "DEEP_ARCHIVE", bytes: 100 * GiB, ageDays: 180, objects: 1600 },
    table,
  );
  assert.deepEqual(e.items.map((i) => [i.what, i.quantity, i.usd]), [
    ["DELETE requests", 1.6, 0],
  ]);
  assert.equal(e.total_usd, 0);
});

Deno.test("each class has its own minimum: 30, 90, 90 and 180 days, none for STANDARD", () => {
  assert.deepEqual(
    (["STANDARD", "STANDARD_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] as const)
      .map((c) => remainingDays(0, c, table)),
    [0, 30, 90, 90, 180],
  );
  // GLACIER deleted after 60 days: 30 days left = 1 month × 10 GB × $0.0036 = $0.036
  const e = estimateDelete({ storageClass: "GLACIER", bytes: 10 * GiB, ageDays: 60 }, table);
  assert.equal(e.total_usd, 0.036);
});
