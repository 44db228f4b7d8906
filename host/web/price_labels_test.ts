import assert from "node:assert/strict";
import { shippedPriceTable, shippedRegions } from "../cost/price_table.ts";
import { GROUPS, inWords } from "./price_labels.ts";
import { priceRows } from "./prices_page.ts";

Deno.test("every figure of every shipped table reads in words, in a named group", () => {
  for (const region of shippedRegions) {
    for (const row of priceRows(shippedPriceTable(region))) {
      const shown = `${row.label} ${row.text}`;
      assert.notEqual(row.group, "Other", `${region} ${row.path} has no words`);
      assert.ok(GROUPS.includes(row.group as typeof GROUPS[number]), row.group);
      assert.doesNotMatch(shown, /\b[a-z0-9]+_[a-z0-9_]+\b|\b[A-Z]+_[A-Z_]+\b/, row.path);
      assert.doesNotMatch(shown, /\bundefined\b|NaN/, row.path);
    }
  }
});

Deno.test("figures read with their unit, and price bands with their range", () => {
  const rows = new Map(priceRows(shippedPriceTable("us-east-1")).map((r) => [r.path, r]));
  const read = (path: string) => [rows.get(path)?.label, rows.get(path)?.text];
  assert.deepEqual(read("storage_gb_month.STANDARD.0.usd"), [
    "S3 Standard, first 50 TB",
    "$0.023 per GB-month",
  ]);
  assert.deepEqual(read("storage_gb_month.STANDARD.1.usd"), [
    "S3 Standard, next 450 TB",
    "$0.022 per GB-month",
  ]);
  assert.deepEqual(read("storage_gb_month.STANDARD.2.usd"), [
    "S3 Standard, over 500 TB",
    "$0.021 per GB-month",
  ]);
  assert.deepEqual(read("storage_gb_month.DEEP_ARCHIVE.0.usd"), [
    "S3 Glacier Deep Archive",
    "$0.00099 per GB-month",
  ]);
  assert.deepEqual(read("restore.DEEP_ARCHIVE.bulk.per_1000"), [
    "S3 Glacier Deep Archive, Bulk tier, restore requests",
    "$0.025 per 1,000",
  ]);
  assert.deepEqual(read("egress_internet.tiers.0.usd"), [
    "To the internet, first 10 TB",
    "$0.09 per GB",
  ]);
  assert.deepEqual(read("rules.classes.DEEP_ARCHIVE.min_days"), [
    "S3 Glacier Deep Archive: minimum storage duration",
    "180 days",
  ]);
  assert.deepEqual(read("rules.early_deletion")[1], "the days left are billed");
});

Deno.test("inWords() names storage classes and table keys in notes", () => {
  assert.equal(
    inWords("for GLACIER and DEEP_ARCHIVE objects; RRS or Standard"),
    "for S3 Glacier Flexible Retrieval and S3 Glacier Deep Archive objects; RRS or Standard",
  );
  assert.doesNotMatch(inWords("each archived object carries archive_overhead"), /_/);
});
