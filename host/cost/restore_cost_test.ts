import assert from "node:assert/strict";
import { estimateRestore, pricedTiers } from "./restore_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const GiB = 2 ** 30;
const lines = (e: { items: { quantity: number; unit_usd: number; usd: number }[] }) =>
  e.items.map((i) => [i.quantity, i.unit_usd, i.usd]);
const sum = (e: { items: { usd: number }[] }) => e.items.reduce((s, i) => s + i.usd, 0);

Deno.test("a bulk restore of 10 GiB of DEEP_ARCHIVE in 64 MiB packs, to the internet", () => {
  const e = estimateRestore({
    storageClass: "DEEP_ARCHIVE",
    bytes: 10 * GiB,
    objects: 160, // 10 GiB / 64 MiB
    tier: "bulk",
    days: 3,
    to: "internet",
  }, table);
  // restore requests: 160 = 0.16 × $0.025 per 1,000          = $0.004
  // retrieval:        10 GB × $0.0025                         = $0.025
  // restored copy:    10 GB × 3/30 month = 1 GB-month × $0.023 = $0.023
  // GETs:             0.16 × $0.0004 per 1,000                = $0.000064
  // egress:           10 GB, within the 100 GB free allowance = $0
  assert.deepEqual(lines(e), [
    [0.16, 0.025, 0.004],
    [10, 0.0025, 0.025],
    [1, 0.023, 0.023],
    [0.16, 0.0004, 0.000064],
    [10, 0, 0],
  ]);
  assert.equal(e.total_usd, 0.052064);
  // bulk: within 48 h; download of 10 × 2^30 × 8 bits: 85.9 s at 1 Gbit/s, 859 s at 100 Mbit/s
  assert.deepEqual(e.hours, { min: 0.023861, max: 48.238609 });
});

Deno.test("a standard restore of the same 10 GiB, in the region: no egress, a little compute", () => {
  const e = estimateRestore({
    storageClass: "DEEP_ARCHIVE",
    bytes: 10 * GiB,
    objects: 160,
    tier: "standard",
    days: 3,
    to: "region",
  }, table);
  // restore requests: 0.16 × $0.10 = $0.016; retrieval: 10 GB × $0.02 = $0.20
  // restored copy $0.023; GETs $0.000064; transfer to EC2/Fargate: 10 GB × $0 = $0
  // download at 1 Gbit/s (the slow end in the region): 85.899 s = 0.023861 h
  // Fargate: 2 vCPU × 0.023861 h = 0.047722 vCPU-h × $0.04048  = $0.001932
  //          4 GB × 0.023861 h   = 0.095444 GB-h × $0.004445   = $0.000424
  assert.deepEqual(lines(e), [
    [0.16, 0.1, 0.016],
    [10, 0.02, 0.2],
    [1, 0.023, 0.023],
    [0.16, 0.0004, 0.000064],
    [10, 0, 0],
    [0.047722, 0.04048, 0.001932],
    [0.095444, 0.004445, 0.000424],
  ]);
  // standard: within 12 h; plus 0.004772-0.023861 h of download at 5-1 Gbit/s
  assert.deepEqual(e.hours, { min: 0.004772, max: 12.023861 });
  assert.ok(Math.abs(sum(e) - e.total_usd) < 1e-9);
});

Deno.test("an expedited restore from GLACIER: $0.03 per GB, $10 per 1,000, minutes", () => {
  const e = estimateRestore({
    storageClass: "GLACIER",
    bytes: 10 * GiB,
    objects: 160,
    tier: "expedited",
    days: 1,
    to: "internet",
  }, table);
  // requests: 0.16 × $10 = $1.60; retrieval: 10 GB × $0.03 = $0.30
  // restored copy: 10 GB × 1/30 month = 0.333333 GB-month × $0.023 = $0.007667
  // GETs: 0.16 × $0.0004 = $0.000064; egress within the free allowance
  assert.deepEqual(lines(e), [
    [0.16, 10, 1.6],
    [10, 0.03, 0.3],
    [0.333333, 0.023, 0.007667],
    [0.16, 0.0004, 0.000064],
    [10, 0, 0],
  ]);
  assert.equal(e.total_usd, 1.907731);
  // expedited 1-5 minutes, plus the download: 1/60 + 0.023861 h to 5/60 + 0.238609 h
  assert.deepEqual(e.hours, { min: 0.040528, max: 0.321943 });
});

Deno.test("bulk restores from GLACIER are free: only the copy, the GETs and egress remain", () => {
  const e = estimateRestore(
    {
      storageClass: "GLACIER",
      bytes: 10 * GiB,
      objects: 160,
      tier: "bulk",
      days: 3,
      to: "internet",
    },
    table,
  );
  assert.deepEqual(e.items.slice(0, 2).map((i) => i.usd), [0, 0]);
  assert.equal(e.total_usd, 0.023064); // copy $0.023 + GETs $0.000064
});

Deno.test("DEEP_ARCHIVE has no expedited tier", () => {
  assert.deepEqual(pricedTiers("DEEP_ARCHIVE", table), ["bulk", "standard"]);
  assert.throws(
    () =>
      estimateRestore({
        storageClass: "DEEP_ARCHIVE",
        bytes: GiB,
        objects: 1,
        tier: "expedited",
        days: 1,
        to: "internet",
      }, table),
    {
      name: "RangeError",
      message: /DEEP_ARCHIVE offers no "expedited" restore; its tiers: bulk, standard/,
    },
  );
});

Deno.test("STANDARD_IA is read without a restore, paying $0.01 per GB retrieved", () => {
  const e = estimateRestore(
    { storageClass: "STANDARD_IA", bytes: 10 * GiB, objects: 160, days: 3, to: "internet" },
    table,
  );
  // retrieval 10 GB × $0.01 = $0.10; GETs 0.16 × $0.001 = $0.00016; no restore, no copy
  assert.deepEqual(lines(e), [[10, 0.01, 0.1], [0.16, 0.001, 0.00016], [10, 0, 0]]);
  assert.equal(e.hours.min < 0.03, true); // only the download
});

Deno.test("issue 4 §7: the bulk restore in the region, and the standard one to the internet", () => {
  const base = { storageClass: "DEEP_ARCHIVE", bytes: 10 * GiB, objects: 160, days: 3 } as const;
  const bulkRegion = estimateRestore({ ...base, tier: "bulk", to: "region" }, table);
  // requests $0.004 + retrieval $0.025 + copy $0.023 + GETs $0.000064 + transfer $0
  // + Fargate (as in the standard in-region case) $0.001932 + $0.000424 = $0.054420
  assert.deepEqual(lines(bulkRegion).map((l) => l[2]), [
    0.004,
    0.025,
    0.023,
    0.000064,
    0,
    0.001932,
    0.000424,
  ]);
  assert.equal(bulkRegion.total_usd, 0.05442);
  const standardInternet = estimateRestore({ ...base, tier: "standard", to: "internet" }, table);
  // requests 0.16 × $0.10 = $0.016 + retrieval 10 GB × $0.02 = $0.20 + copy $0.023
  // + GETs $0.000064 + egress 10 GB within the free 100 GB = $0 → $0.239064
  assert.deepEqual(lines(standardInternet).map((l) => l[2]), [0.016, 0.2, 0.023, 0.000064, 0]);
  assert.equal(standardInternet.total_usd, 0.239064);
  // in the region the egress line is free, so it is the internet estimate plus the compute
  assert.ok(bulkRegion.total_usd > 0.052064 && bulkRegion.total_usd - 0.052064 < 0.0024);
});
