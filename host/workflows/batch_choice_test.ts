import assert from "node:assert/strict";
import { shippedPriceTable } from "../cost/price_table.ts";
import { estimateRestore } from "../cost/restore_cost.ts";
import { BATCH_THRESHOLD, chooseRestoreMethod, methodLines } from "./batch_choice.ts";

const table = shippedPriceTable("us-east-1");

/** `objects` 64 MiB Deep Archive packs restored at `tier`, downloaded to the internet. */
function restore(objects: number, tier: "standard" | "bulk" = "bulk") {
  return estimateRestore({
    storageClass: "DEEP_ARCHIVE",
    bytes: objects * 64 * 2 ** 20,
    objects,
    tier,
    days: 3,
    to: "internet",
  }, table);
}

Deno.test("at or below the threshold a restore sends per-object requests, and says why", () => {
  const c = chooseRestoreMethod(restore(BATCH_THRESHOLD), BATCH_THRESHOLD, table);
  assert.equal(c.chosen, "requests");
  assert.equal(c.why, "below threshold");
});

Deno.test("above the threshold the batch job costs the requests plus $0.25, $1 per million objects and a PUT, and starts up to an hour later", () => {
  const base = restore(16384);
  const c = chooseRestoreMethod(base, 16384, table);
  const extra = c.batch.estimate.total_usd - c.requests.estimate.total_usd;
  assert.ok(Math.abs(extra - (0.25 + 16384 / 1e6 + 0.005 / 1000)) < 1e-6, String(extra));
  assert.deepEqual(
    c.batch.estimate.items.slice(-3).map((i) => i.what),
    ["S3 Batch Operations job", "S3 Batch Operations objects", "manifest PUT, STANDARD"],
  );
  assert.equal(c.batch.hours.max, base.hours.max + 1);
  assert.ok(c.requests.hours.max > base.hours.max, "sending 16,384 requests takes time too");
  // Batch Operations bills the restore requests as well, so it is never the cheaper one.
  assert.equal(c.chosen, "requests");
  assert.equal(c.why, "cheaper");
  assert.equal(methodLines(c).length, 3);
});

Deno.test("--batch and --no-batch choose whatever the prices say, and a lower threshold offers both", () => {
  const base = restore(10, "standard");
  assert.equal(chooseRestoreMethod(base, 10, table, { batch: true }).chosen, "batch");
  assert.equal(chooseRestoreMethod(base, 10, table, { batch: false }).why, "asked");
  assert.equal(chooseRestoreMethod(base, 10, table, { threshold: 5 }).why, "cheaper");
});
