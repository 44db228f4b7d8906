import assert from "node:assert/strict";
import { costBody, type CostReport } from "./cost_page.ts";

const report: CostReport = {
  total_usd: 1.2,
  hours: { min: 0, max: 0 },
  items: [],
  prices: { region: "us-east-1", date: "2026-11-26", source: "shipped table" },
  recurring_usd: 1.2,
  projection: { months: ["2027-01"], usd: [1.2], cumulative_usd: [1.2] },
  objects: [],
  totals: { objects: 0, bytes: 0 },
  dead_data: {
    share: 0.25,
    usd: 0.3,
    bytes: 1 << 30,
    marked_at: "2027-01-02T03:04:05.000Z",
    note: "from the gc mark of 2027-01-02 03:04 UTC; packs written since count as live",
  },
  notes: [],
};

Deno.test("costBody() draws the dead share as a bar whose text alternative has the numbers", () => {
  const page = costBody(report).value;
  assert.match(
    page,
    /<svg class="share-bar"[^>]*role="img" aria-label="Dead data: 25\.0% of the monthly bill, \$0\.30 a month">/,
  );
  assert.match(page, /<rect class="part" width="25"/);
  assert.match(page, /id="dead-share" data-share="0.25">25\.0%</);
  assert.match(page, /id="dead-usd" data-usd="0.3">\$0\.30</);
  assert.ok(page.includes("1.0 GiB"));
  assert.ok(page.includes("From the gc mark of 2027-01-02 03:04 UTC"));
});

Deno.test("costBody() says how to learn the dead share when no gc mark has run, without a bar", () => {
  const page = costBody({
    ...report,
    dead_data: { share: null, usd: null, note: "run `permafrost gc mark`" },
  }).value;
  assert.match(page, /id="dead-data" class="note">Dead data: run `permafrost gc mark`</);
  assert.ok(!page.includes("share-bar"));
});
