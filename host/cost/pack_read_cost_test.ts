import assert from "node:assert/strict";
import { commonTiers, compareReads, estimatePackRead } from "./pack_read_cost.ts";
import { estimateRestore } from "./restore_cost.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const GiB = 2 ** 30;
const lines = (e: { items: { quantity: number; unit_usd: number; usd: number }[] }) =>
  e.items.map((i) => [i.quantity, i.unit_usd, i.usd]);

Deno.test("reading packs that are all archived costs what the scenario restore of §4 costs", () => {
  const groups = [{
    storageClass: "DEEP_ARCHIVE" as const,
    archived: { objects: 160, bytes: 10 * GiB },
    gets: 160,
    readBytes: 10 * GiB,
  }];
  const e = estimatePackRead({ groups, tier: "bulk", days: 3, to: "internet" }, table);
  const scenario = estimateRestore({
    storageClass: "DEEP_ARCHIVE",
    bytes: 10 * GiB,
    objects: 160,
    tier: "bulk",
    days: 3,
    to: "internet",
  }, table);
  assert.deepEqual(e, scenario); // $0.052064, docs/cost-model.md §7
});

Deno.test("only archived packs are restored; every pack read pays its GETs and its egress", () => {
  const e = estimatePackRead({
    groups: [
      // 2 archived packs of 64 MiB and one already restored, read as 3 + 2 + 2 ranges
      {
        storageClass: "DEEP_ARCHIVE",
        archived: { objects: 2, bytes: 128 * 2 ** 20 },
        gets: 7,
        readBytes: 150 * 2 ** 20,
      },
      // a metadata pack's hot copy, one range
      { storageClass: "STANDARD", archived: { objects: 0, bytes: 0 }, gets: 1, readBytes: 2 ** 20 },
    ],
    tier: "standard",
    days: 1,
    to: "internet",
  }, table);
  // restore requests: 2 = 0.002 × $0.10                        = $0.0002
  // retrieval:        0.125 GB × $0.02                         = $0.0025
  // restored copy:    0.125 GB × 1/30 = 0.004167 GB-month × $0.023 = $0.000096
  // GETs:             0.007 × $0.0004 = $0.000003; 0.001 × $0.0004 = $0
  // egress:           151 MiB = 0.147461 GB, within the free allowance
  assert.deepEqual(lines(e), [
    [0.002, 0.1, 0.0002],
    [0.125, 0.02, 0.0025],
    [0.004167, 0.023, 0.000096],
    [0.007, 0.0004, 0.000003],
    [0.001, 0.0004, 0],
    [0.147461, 0, 0],
  ]);
  assert.equal(e.total_usd, 0.002799);
  assert.equal(e.hours.max > 12, true); // standard: within 12 hours, then the download
});

Deno.test("the alternatives are every tier all archived classes offer, at home and in the region", () => {
  const group = (storageClass: "GLACIER" | "DEEP_ARCHIVE" | "STANDARD", objects: number) => ({
    storageClass,
    archived: { objects, bytes: objects * 2 ** 20 },
    gets: objects,
    readBytes: objects * 2 ** 20,
  });
  assert.deepEqual(commonTiers([group("GLACIER", 1)], table), ["bulk", "standard", "expedited"]);
  assert.deepEqual(commonTiers([group("GLACIER", 1), group("DEEP_ARCHIVE", 1)], table), [
    "bulk",
    "standard",
  ]);
  assert.deepEqual(commonTiers([group("DEEP_ARCHIVE", 0)], table), [undefined]);
  const all = compareReads({ groups: [group("DEEP_ARCHIVE", 4)], days: 3 }, table);
  assert.deepEqual(all.map((a) => `${a.tier} ${a.to}`), [
    "bulk internet",
    "bulk region",
    "standard internet",
    "standard region",
  ]);
});
