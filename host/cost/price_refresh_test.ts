import assert from "node:assert/strict";
import { refreshPriceTable } from "./price_refresh.ts";
import { type Figure, parsePriceTable, shippedPriceTable } from "./price_table.ts";
import rules from "./prices/rules.json" with { type: "json" };
import { priceList } from "./testdata/get_products_s3_us_east_1.ts";

const shipped = shippedPriceTable("us-east-1");
const result = refreshPriceTable(shipped, priceList, "2026-12-01");
const table = parsePriceTable(result.file, rules, "refreshed");
const refreshed = new Map(result.refreshed.map((r) => [r.path, r]));
const kept = new Map(result.kept.map((k) => [k.path, k]));

Deno.test("a refreshed table loads, for the same region, dated the day of the refresh", () => {
  assert.equal(table.region, "us-east-1");
  assert.equal(table.name, shipped.name);
  assert.equal(table.date, "2026-12-01");
});

Deno.test("storage per GB-month is refreshed per class, band by band", () => {
  assert.equal(table.storage_gb_month.DEEP_ARCHIVE[0].usd.value, 0.00095);
  assert.equal(table.storage_gb_month.GLACIER[0].usd.value, 0.0036);
  assert.equal(table.storage_gb_month.STANDARD_IA[0].usd.value, 0.0125);
  assert.equal(table.storage_gb_month.GLACIER_IR[0].usd.value, 0.004);
  assert.deepEqual(
    table.storage_gb_month.STANDARD.map((b) => [b.up_to_gb, b.usd.value]),
    [[51200, 0.023], [512000, 0.022], [null, 0.021]],
  );
  assert.deepEqual(refreshed.get("storage_gb_month.DEEP_ARCHIVE[0].usd"), {
    path: "storage_gb_month.DEEP_ARCHIVE[0].usd",
    before: 0.00099,
    after: 0.00095,
  });
});

Deno.test("a refreshed figure names the API and the SKU, is dated and verified", () => {
  const f: Figure = table.storage_gb_month.DEEP_ARCHIVE[0].usd;
  assert.equal(f.source, "AWS Price List API (GetProducts AmazonS3), SKU0GDA");
  assert.equal(f.date, "2026-12-01");
  assert.equal(f.verified, true);
  assert.match(f.seen_in!, /usage type USE1-TimedStorage-GDA-ByteHrs, rate code SKU0GDA\./);
});

Deno.test("request prices per request become prices per 1,000, per class", () => {
  assert.equal(table.requests_per_1000.STANDARD.put.value, 0.0055);
  assert.equal(table.requests_per_1000.STANDARD.get.value, 0.0004);
  assert.equal(table.requests_per_1000.STANDARD_IA.put.value, 0.01);
  assert.equal(table.requests_per_1000.STANDARD_IA.get.value, 0.001);
  assert.equal(table.requests_per_1000.DEEP_ARCHIVE.put.value, 0.05);
  assert.equal(table.requests_per_1000.DEEP_ARCHIVE.get.value, 0.0004);
  assert.equal(
    table.requests_per_1000.DEEP_ARCHIVE.put.source,
    "AWS Price List API (GetProducts AmazonS3), SKU0GDAT1",
  );
});

Deno.test("restore tiers and retrieval per GB are refreshed where the API gives them", () => {
  assert.equal(table.restore.DEEP_ARCHIVE!.standard!.per_1000.value, 0.1);
  assert.equal(table.restore.DEEP_ARCHIVE!.bulk!.per_1000.value, 0.025);
  assert.equal(table.restore.DEEP_ARCHIVE!.bulk!.per_gb.value, 0.0025);
  assert.equal(table.restore.DEEP_ARCHIVE!.standard!.per_gb.value, 0.02);
  assert.equal(table.restore.GLACIER!.expedited!.per_1000.value, 10);
  assert.equal(table.restore.GLACIER!.expedited!.per_gb.value, 0.03);
  assert.equal(table.retrieval_per_gb.STANDARD_IA!.value, 0.01);
  assert.equal(table.retrieval_per_gb.GLACIER_IR!.value, 0.03);
  assert.ok(refreshed.has("restore.GLACIER.expedited.per_gb"));
});

Deno.test("a figure the answer prices twice differently keeps the shipped value", () => {
  const k = kept.get("restore.GLACIER.standard.per_1000");
  assert.match(k!.reason!, /gives 2 prices \(SKU0T3TRANS: 0\.03, SKU0T3RESTORE: 0\.05\)/);
  assert.deepEqual(
    table.restore.GLACIER!.standard!.per_1000,
    shipped.restore.GLACIER!.standard!.per_1000,
  );
});

Deno.test("figures the answer does not give keep the shipped values, and say so", () => {
  for (const path of ["restore.GLACIER.bulk.per_1000", "requests_per_1000.GLACIER_IR.put"]) {
    assert.match(kept.get(path)!.reason!, /has no price for it; shipped value kept/, path);
  }
  assert.deepEqual(table.requests_per_1000.GLACIER_IR, shipped.requests_per_1000.GLACIER_IR);
  assert.match(kept.get("egress_internet.tiers[0].usd")!.reason!, /not asked of the API/);
  assert.deepEqual(table.fargate, shipped.fargate);
  assert.deepEqual(table.egress_internet, shipped.egress_internet);
});

Deno.test("every figure of the table is either refreshed or kept, once", () => {
  const all = [...result.refreshed, ...result.kept].map((c) => c.path);
  assert.equal(new Set(all).size, all.length);
  // storage 3 STANDARD bands + 4 classes, PUT/GET of STANDARD, STANDARD_IA and DEEP_ARCHIVE,
  // restore requests 3, retrieval of STANDARD_IA and GLACIER_IR, archive retrieval per GB 3
  assert.equal(result.refreshed.length, 7 + 6 + 3 + 2 + 3);
  const figures = JSON.stringify(result.file).match(/"source":/g)!.length;
  assert.equal(all.length, figures);
});

Deno.test("products of other regions are skipped", () => {
  // SKU0OTHERREGION prices eu-west-1's DEEP_ARCHIVE at 0.0018; us-east-1 kept 0.00095.
  assert.equal(table.storage_gb_month.DEEP_ARCHIVE[0].usd.value, 0.00095);
  const none = refreshPriceTable(shippedPriceTable("eu-west-1"), priceList, "2026-12-01");
  assert.deepEqual(none.refreshed.map((r) => r.path), ["storage_gb_month.DEEP_ARCHIVE[0].usd"]);
});

Deno.test("a price list entry that is not JSON is a SyntaxError naming it", () => {
  assert.throws(() => refreshPriceTable(shipped, ["{"], "2026-12-01"), {
    name: "SyntaxError",
    message: /^price list entry 0 is not JSON/,
  });
});
