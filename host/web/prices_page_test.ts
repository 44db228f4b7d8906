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
