import assert from "node:assert/strict";
import { defaultAssumptions } from "./assumptions.ts";
import { billableGB, estimateStore, putItems, uploadParts } from "./store_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const KiB = 2 ** 10, MiB = 2 ** 20, GiB = 2 ** 30, TiB = 2 ** 40;

Deno.test("1 TiB in DEEP_ARCHIVE as 128 MiB objects for 12 months in us-east-1", () => {
  const e = estimateStore(
    { storageClass: "DEEP_ARCHIVE", bytes: TiB, objects: 8192, months: 12 },
    table,
  );
  // 1 TiB = 1,024 GB (AWS's GB is 2^30 bytes), in 1 TiB / 128 MiB = 8,192 objects.
  // storage:  1,024 GB × 12 months = 12,288 GB-month × $0.00099      = $12.16512
  // overhead: 8,192 × 8 KiB = 64 MiB = 0.0625 GB × 12 = 0.75 GB-month × $0.023 = $0.01725
  //           8,192 × 32 KiB = 256 MiB = 0.25 GB × 12 = 3 GB-month × $0.00099 = $0.00297
  // uploads:  128 MiB > 16 MiB, so multipart in 128 / 8 = 16 parts:
  //           create + 16 parts = 17 × 8,192 = 139,264 at STANDARD $0.005 per 1,000 = $0.69632
  //           complete: 8,192 at DEEP_ARCHIVE $0.05 per 1,000                    = $0.4096
  // 12 months ≥ 180 days: no minimum-duration line.
  // total: 12.16512 + 0.01725 + 0.00297 + 0.69632 + 0.4096 = $13.29126
  assert.deepEqual(e.items.map((i) => [i.quantity, i.unit, i.unit_usd, i.usd]), [
    [12_288, "GB-month", 0.00099, 12.16512],
    [0.75, "GB-month", 0.023, 0.01725],
    [3, "GB-month", 0.00099, 0.00297],
    [139.264, "1,000 requests", 0.005, 0.69632],
    [8.192, "1,000 requests", 0.05, 0.4096],
  ]);
  assert.equal(e.total_usd, 13.29126);
  // upload of 2^40 bytes × 8 bits at 1,000 Mbit/s = 8,796 s = 2.443359 h; at 100 Mbit/s ten times
  assert.deepEqual(e.hours, { min: 2.443359, max: 24.433592 });
});

Deno.test("stored for less than the minimum duration, the rest is billed anyway", () => {
  const e = estimateStore(
    { storageClass: "DEEP_ARCHIVE", bytes: 100 * GiB, objects: 1600, months: 1 },
    table,
  );
  // 180 days = 6 months; stored 1, so 5 more: 100 GB × 5 = 500 GB-month × $0.00099 = $0.495
  const line = e.items.at(-1)!;
  assert.match(line.what, /minimum storage duration \(180 days\)/);
  assert.deepEqual([line.quantity, line.usd], [500, 0.495]);
});

Deno.test("STANDARD_IA bills each object as at least 128 KB and has no archive overhead", () => {
  // 1,000 objects of 4 KiB: 1,000 × 128 KiB = 128,000 KiB = 0.1220703125 GB
  assert.equal(billableGB(1000 * 4 * KiB, 1000, "STANDARD_IA", table), 128_000 / 1024 / 1024);
  // objects of 1 MiB are above the minimum: billed as they are
  assert.equal(billableGB(1024 * MiB, 1024, "STANDARD_IA", table), 1);
  const e = estimateStore(
    { storageClass: "STANDARD_IA", bytes: 1000 * 4 * KiB, objects: 1000, months: 1 },
    table,
  );
  // storage 0.1220703125 GB-month × $0.0125 = $0.001526; 1 PUT each: 1 × $0.01 = $0.01
  assert.deepEqual(e.items.map((i) => i.usd), [0.001526, 0.01]);
});

Deno.test("objects up to the multipart threshold take one PUT, larger ones go in parts", () => {
  const upload = defaultAssumptions.upload; // 16 MiB threshold, 8 MiB parts
  assert.equal(uploadParts(16 * MiB, upload), 0);
  assert.equal(uploadParts(16 * MiB + 1, upload), 3);
  assert.equal(uploadParts(64 * MiB, upload), 8);
  assert.equal(uploadParts(128 * MiB, { ...upload, partSize: 64 * MiB }), 2);
  // 1,000 objects of 1 MiB in DEEP_ARCHIVE: 1,000 PutObject × $0.05 per 1,000 = $0.05
  assert.deepEqual(
    putItems(1000, MiB, "DEEP_ARCHIVE", table, upload).map((i) => [i.quantity, i.usd]),
    [[1, 0.05]],
  );
});

Deno.test("a multipart upload to STANDARD_IA pays the class's rate for every request", () => {
  // 1,000 objects of 64 MiB: 8 parts + create + complete = 10 requests each = 10,000
  // 10 × $0.01 per 1,000 = $0.10
  const [line] = putItems(1000, 64 * MiB, "STANDARD_IA", table, defaultAssumptions.upload);
  assert.deepEqual([line.quantity, line.unit_usd, line.usd], [10, 0.01, 0.1]);
});

Deno.test("issue 4 §7: 1 TiB in DEEP_ARCHIVE as 128 MiB objects for one month", () => {
  const e = estimateStore(
    { storageClass: "DEEP_ARCHIVE", bytes: TiB, objects: 8192, months: 1 },
    table,
  );
  // storage:  1,024 GB × 1 month = 1,024 GB-month × $0.00099                = $1.01376
  // overhead: 0.0625 GB × 1 = 0.0625 GB-month × $0.023                       = $0.0014375
  //           0.25 GB × 1 = 0.25 GB-month × $0.00099                         = $0.0002475
  // uploads:  create + 16 parts: 139.264 thousand × $0.005                   = $0.69632
  //           complete: 8.192 thousand × $0.05                               = $0.4096
  // minimum:  180 days = 6 months, 5 more: 1,024 GB × 5 = 5,120 GB-month × $0.00099 = $5.0688
  // (rounded to a millionth per line: $0.001438 and $0.000248)
  // total: 1.01376 + 0.001438 + 0.000248 + 0.69632 + 0.4096 + 5.0688 = $7.190166
  assert.deepEqual(e.items.map((i) => [i.quantity, i.unit_usd, i.usd]), [
    [1_024, 0.00099, 1.01376],
    [0.0625, 0.023, 0.001438],
    [0.25, 0.00099, 0.000248],
    [139.264, 0.005, 0.69632],
    [8.192, 0.05, 0.4096],
    [5_120, 0.00099, 5.0688],
  ]);
  assert.equal(e.total_usd, 7.190166);
});
