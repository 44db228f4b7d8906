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
  // uploads:  128 MiB > 96 MiB, so multipart in parts of 96 MiB: 2 parts (96 and 32 MiB):
  //           create + 2 parts = 3 × 8,192 = 24,576 at STANDARD $0.005 per 1,000 = $0.12288
  //           complete: 8,192 at DEEP_ARCHIVE $0.05 per 1,000                  = $0.4096
  // 12 months ≥ 180 days: no minimum-duration line.
  // total: 12.16512 + 0.01725 + 0.00297 + 0.12288 + 0.4096 = $12.71782
  assert.deepEqual(e.items.map((i) => [i.quantity, i.unit, i.unit_usd, i.usd]), [
    [12_288, "GB-month", 0.00099, 12.16512],
    [0.75, "GB-month", 0.023, 0.01725],
    [3, "GB-month", 0.00099, 0.00297],
    [24.576, "1,000 requests", 0.005, 0.12288],
    [8.192, "1,000 requests", 0.05, 0.4096],
  ]);
  assert.equal(e.total_usd, 12.71782);
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
  const upload = defaultAssumptions.upload; // 96 MiB threshold, 96 MiB parts
  assert.equal(uploadParts(64 * MiB, upload), 0);
  assert.equal(uploadParts(96 * MiB, upload), 0);
  assert.equal(uploadParts(96 * MiB + 1, upload), 2);
  assert.equal(uploadParts(1 * GiB, upload), 11);
  assert.equal(uploadParts(128 * MiB, { ...upload, partSize: 64 * MiB }), 2);
  assert.equal(uploadParts(64 * MiB, { multipartThreshold: 16 * MiB, partSize: 8 * MiB }), 8);
  // 1,000 objects of 1 MiB in DEEP_ARCHIVE: 1,000 PutObject × $0.05 per 1,000 = $0.05
  assert.deepEqual(
    putItems(1000, MiB, "DEEP_ARCHIVE", table, upload).map((i) => [i.quantity, i.usd]),
    [[1, 0.05]],
  );
});

Deno.test("a multipart upload to STANDARD_IA pays the class's rate for every request", () => {
  // 1,000 objects of 256 MiB: 3 parts of 96 MiB + create + complete = 5 requests each = 5,000
  // 5 × $0.01 per 1,000 = $0.05
  const [line] = putItems(1000, 256 * MiB, "STANDARD_IA", table, defaultAssumptions.upload);
  assert.deepEqual([line.quantity, line.unit_usd, line.usd], [5, 0.01, 0.05]);
});

Deno.test("issue 19: 1 TiB of 64 MiB packs into DEEP_ARCHIVE is 16,384 PutObjects, not 10 requests a pack", () => {
  const requests = (upload: typeof defaultAssumptions.upload) =>
    putItems(16_384, 64 * MiB, "DEEP_ARCHIVE", table, upload).map((i) => [i.what, i.usd]);
  // 16,384 × $0.05 per 1,000 = $0.8192
  assert.deepEqual(requests(defaultAssumptions.upload), [["PUT requests, DEEP_ARCHIVE", 0.8192]]);
  // The rule before: over 16 MiB in 8 MiB parts, 16,384 × 9 at $0.005 + 16,384 at $0.05
  assert.deepEqual(requests({ multipartThreshold: 16 * MiB, partSize: 8 * MiB }), [
    ["multipart create + 8 parts each, at STANDARD rates", 0.73728],
    ["multipart complete, at DEEP_ARCHIVE rates", 0.8192],
  ]);
});

Deno.test("issue 4 §7: 1 TiB in DEEP_ARCHIVE as 128 MiB objects for one month", () => {
  const e = estimateStore(
    { storageClass: "DEEP_ARCHIVE", bytes: TiB, objects: 8192, months: 1 },
    table,
  );
  // storage:  1,024 GB × 1 month = 1,024 GB-month × $0.00099                = $1.01376
  // overhead: 0.0625 GB × 1 = 0.0625 GB-month × $0.023                       = $0.0014375
  //           0.25 GB × 1 = 0.25 GB-month × $0.00099                         = $0.0002475
  // uploads:  create + 2 parts: 24.576 thousand × $0.005                    = $0.12288
  //           complete: 8.192 thousand × $0.05                               = $0.4096
  // minimum:  180 days = 6 months, 5 more: 1,024 GB × 5 = 5,120 GB-month × $0.00099 = $5.0688
  // (rounded to a millionth per line: $0.001438 and $0.000248)
  // total: 1.01376 + 0.001438 + 0.000248 + 0.12288 + 0.4096 + 5.0688 = $6.616726
  assert.deepEqual(e.items.map((i) => [i.quantity, i.unit_usd, i.usd]), [
    [1_024, 0.00099, 1.01376],
    [0.0625, 0.023, 0.001438],
    [0.25, 0.00099, 0.000248],
    [24.576, 0.005, 0.12288],
    [8.192, 0.05, 0.4096],
    [5_120, 0.00099, 5.0688],
  ]);
  assert.equal(e.total_usd, 6.616726);
});
