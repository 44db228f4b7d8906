import assert from "node:assert/strict";
import { shippedPriceTable } from "../cost/mod.ts";
import { priceRows, pricesBody } from "./prices_page.ts";

Deno.test("priceRows() lists every figure of a shipped table with its source and date", () => {
  const table = shippedPriceTable("eu-west-1");
  const rows = priceRows(table);
  const standard = rows.find((r) => r.path === "storage_gb_month.STANDARD.0.usd");
  assert.equal(standard?.value, table.storage_gb_month.STANDARD[0].usd.value);
  assert.ok(rows.some((r) => r.path === "rules.archive_overhead.standard_bytes"));
  assert.ok(rows.every((r) => r.source !== "" && /^\d{4}-\d{2}-\d{2}$/.test(r.date)));
});

Deno.test("pricesBody() names the region and date of the table in use", () => {
  const table = shippedPriceTable("us-west-2");
  const body = pricesBody(table).value;
  assert.ok(body.includes(`<strong>us-west-2</strong>`));
  assert.ok(body.includes(`<strong>${table.date}</strong>`));
});

Deno.test("pricesBody() shows each figure by its label in groups, its key only as data-path", () => {
  const body = pricesBody(shippedPriceTable("us-east-1")).value;
  assert.match(body, /<th colspan="5" scope="rowgroup">Storage<\/th>/);
  assert.match(
    body,
    /<tr data-path="storage_gb_month\.DEEP_ARCHIVE\.0\.usd">\s*<td>S3 Glacier Deep Archive<\/td>\s*<td class="num">\$0\.00099 per GB-month<\/td>/,
  );
  const shown = body.replace(/<[^>]*>/g, " ");
  assert.ok(!shown.includes("storage_gb_month"));
  // A deep source address is shortened for its column; the link keeps all of it.
  assert.match(
    body,
    /href="https:\/\/docs\.aws\.amazon\.com\/AmazonS3\/latest\/userguide\/storage-class-intro\.html"[^>]*>docs\.aws\.amazon\.com\/…\/storage-class-intro\.html</,
  );
});
