import assert from "node:assert/strict";
import { egressItems, internetEgressItems } from "./egress.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const usd = (gb: number, free?: number) =>
  internetEgressItems(gb, table, free).reduce((sum, i) => sum + i.usd, 0);

Deno.test("internet egress is free up to the 100 GB monthly allowance", () => {
  assert.equal(usd(0), 0);
  assert.equal(usd(100), 0); // exactly the allowance: $0
  assert.equal(usd(101), 0.09); // one GB over: 1 × $0.09
  assert.deepEqual(internetEgressItems(101, table).map((i) => [i.quantity, i.usd]), [
    [100, 0],
    [1, 0.09],
  ]);
});

Deno.test("a used-up allowance can be given, and the bands start after it", () => {
  assert.equal(usd(10, 0), 0.9); // 10 × $0.09
  // 100 free, then 10,240 at $0.09 = $921.60, then 1 at $0.085: $921.685
  assert.equal(Math.round(usd(10_341) * 1e6) / 1e6, 921.685);
});

Deno.test("transfer to EC2 or Fargate in the same region is free", () => {
  assert.deepEqual(egressItems(1024, "region", table).map((i) => [i.quantity, i.usd]), [
    [1024, 0],
  ]);
});
