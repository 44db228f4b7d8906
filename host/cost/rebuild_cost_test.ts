import assert from "node:assert/strict";
import { defaultAssumptions } from "./assumptions.ts";
import { estimateRebuild, rebuildCases, rebuildDays } from "./rebuild_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const TiB = 2 ** 40;
const plan = { storageClass: "DEEP_ARCHIVE" as const, bytes: TiB, objects: 8192 };

Deno.test("rebuilding 1 TiB at home: bulk restore, three days of copies, and egress", () => {
  const e = estimateRebuild({ ...plan, to: "internet" }, table);
  // restore requests: 8,192 = 8.192 × $0.025                  = $0.2048
  // retrieval (bulk):  1,024 GB × $0.0025                      = $2.56
  // restored copy:     the download takes up to 24.4 h at 100 Mbit/s, so 3 days (the least):
  //                    1,024 GB × 3/30 = 102.4 GB-month × $0.023 = $2.3552
  // GETs:              8.192 × $0.0004                         = $0.0032768 → $0.003277
  // egress:            100 GB free, then 924 GB × $0.09        = $83.16
  // total: 0.2048 + 2.56 + 2.3552 + 0.003277 + 0 + 83.16       = $88.283277
  assert.deepEqual(e.items.map((i) => [i.quantity, i.unit_usd, i.usd]), [
    [8.192, 0.025, 0.2048],
    [1024, 0.0025, 2.56],
    [102.4, 0.023, 2.3552],
    [8.192, 0.0004, 0.003277],
    [100, 0, 0],
    [924, 0.09, 83.16],
  ]);
  assert.equal(e.total_usd, 88.283277);
  // bulk: within 48 h; then 2.44-24.43 h of download
  assert.deepEqual(e.hours, { min: 2.443359, max: 72.433592 });
});

Deno.test("rebuilding 1 TiB in the region: no egress, an hour or two of Fargate", () => {
  const e = estimateRebuild({ ...plan, to: "region" }, table);
  // the same restore, copy and GET lines ($5.123277), transfer to Fargate free, and the job:
  // reading 2^40 bytes at 1 Gbit/s (the slow end) = 8,796 s = 2.443359 h
  // 2 vCPU × 2.443359 h = 4.886718 vCPU-h × $0.04048 = $0.197814
  // 4 GB × 2.443359 h = 9.773437 GB-h × $0.004445    = $0.043443
  // total: 5.123277 + 0.197814 + 0.043443 = $5.364534
  assert.deepEqual(e.items.slice(4).map((i) => [i.quantity, i.unit_usd, i.usd]), [
    [1024, 0, 0],
    [4.886718, 0.04048, 0.197814],
    [9.773437, 0.004445, 0.043443],
  ]);
  assert.equal(e.total_usd, 5.364534);
  assert.deepEqual(e.hours, { min: 0.488672, max: 50.443359 });
});

Deno.test("copies stay as long as the slowest download needs, and at least three days", () => {
  // 10 TiB at 100 Mbit/s: 244.3 h = 10.2 days → 11 days; in the region: 24.4 h → 3 days
  assert.equal(rebuildDays(10 * TiB, "internet", defaultAssumptions), 11);
  assert.equal(rebuildDays(10 * TiB, "region", defaultAssumptions), 3);
});

Deno.test("the normal rebuild restores only the metadata packs and unknown ones, the worst case every pack", () => {
  const scope = {
    metadata: { objects: 100, bytes: 2 ** 30 },
    data: { objects: 8000, bytes: TiB },
    unknown: { objects: 2, bytes: 2 ** 27 },
  };
  const { normal, worst } = rebuildCases(scope);
  assert.deepEqual(normal, { objects: 102, bytes: 2 ** 30 + 2 ** 27 });
  assert.deepEqual(worst, { objects: 8102, bytes: TiB + 2 ** 30 + 2 ** 27 });
  const cheap = estimateRebuild({ storageClass: "DEEP_ARCHIVE", ...normal, to: "internet" }, table);
  const dear = estimateRebuild({ storageClass: "DEEP_ARCHIVE", ...worst, to: "internet" }, table);
  // 1.125 GiB = 1.208 GB, all within the free 100 GB of egress: restore and copy only
  // restore requests: 0.102 × $0.025 = $0.00255; retrieval: 1.207959552 GB × $0.0025 = $0.00302
  assert.equal(cheap.items.find((i) => i.what.startsWith("restore requests"))!.usd, 0.00255);
  assert.ok(cheap.total_usd < 0.02, `${cheap.total_usd}`);
  assert.ok(dear.total_usd > 80, `${dear.total_usd}`);
});
