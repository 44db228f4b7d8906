import assert from "node:assert/strict";
import { estimateBackup } from "./backup_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const MiB = 2 ** 20;

Deno.test("a backup of 100 packs of 64 MiB and 200 small hot objects, into DEEP_ARCHIVE", () => {
  const { estimate: e, monthly_usd } = estimateBackup([
    ...Array.from(
      { length: 100 },
      () => ({ storageClass: "DEEP_ARCHIVE" as const, size: 64 * MiB }),
    ),
    ...Array.from({ length: 200 }, () => ({ storageClass: "STANDARD" as const, size: 1024 })),
  ], table);
  const usd = Object.fromEntries(e.items.map((i) => [i.what, i.usd]));
  // storage: 6,400 MiB = 6.25 GB × 1 month × $0.00099                     = $0.006188
  assert.equal(usd["storage, DEEP_ARCHIVE"], 0.006188);
  // overhead: 100 × 8 KiB = 0.000763 GB × $0.023 = $0.000018; 100 × 32 KiB × $0.00099 = $0.000003
  // uploads: 64 MiB is up to the 96 MiB threshold, so one PutObject each: 0.1 × $0.05 = $0.005
  assert.equal(usd["PUT requests, DEEP_ARCHIVE"], 0.005);
  // the rest of 180 days: 6.25 GB × (6 − 1) months × $0.00099                = $0.030938
  assert.equal(usd["minimum storage duration (180 days), the rest billed anyway"], 0.030938);
  // hot: 200 KiB = 0.000191 GB × $0.023 = $0.000004; 200 PUTs = 0.2 × $0.005 = $0.001
  assert.equal(usd["PUT requests, STANDARD"], 0.001);
  assert.equal(e.total_usd, 0.043151);
  // every later month: storage and overhead only
  assert.equal(monthly_usd, 0.006213);
});
