import assert from "node:assert/strict";
import { estimate, lineItem, tieredItems } from "./estimate.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const egressTiers = table.egress_internet.tiers; // 0.09 to 10,240 GB, 0.085 to 51,200, ...

Deno.test("a line item is quantity × unit price, rounded to a millionth of a dollar", () => {
  // 0.16 thousand requests × $0.0004 = $0.000064
  assert.deepEqual(lineItem("GET", 0.16, "1,000 requests", 0.0004), {
    what: "GET",
    quantity: 0.16,
    unit: "1,000 requests",
    unit_usd: 0.0004,
    usd: 0.000064,
  });
});

Deno.test("banded prices split the GB over the bands and name each band", () => {
  // 10,240 GB at $0.09 = $921.60, then 1,000 GB at $0.085 = $85.00
  const items = tieredItems("egress", 11_240, egressTiers, "GB");
  assert.deepEqual(items.map((i) => [i.what, i.quantity, i.usd]), [
    ["egress (first 10 TB)", 10_240, 921.6],
    ["egress (10-50 TB)", 1_000, 85],
  ]);
});

Deno.test("a single-band price is one line, multiplied by the months", () => {
  // 1,024 GB × 12 months = 12,288 GB-month × $0.00099 = $12.16512
  const [line] = tieredItems("storage", 1024, table.storage_gb_month.DEEP_ARCHIVE, "GB-month", 12);
  assert.deepEqual([line.what, line.quantity, line.usd], ["storage", 12_288, 12.16512]);
});

Deno.test("the total is the sum of the lines and the estimate names its price table", () => {
  const e = estimate(table, [
    lineItem("a", 1, "x", 0.1),
    lineItem("b", 2, "x", 0.2),
  ], { min: 1, max: 2 });
  // 0.1 + 0.4 = 0.5 (and not 0.5000000000000001)
  assert.equal(e.total_usd, 0.5);
  assert.deepEqual(e.prices, {
    region: "us-east-1",
    date: table.date,
    source: "shipped table host/cost/prices/us-east-1.json",
  });
});
