import assert from "node:assert/strict";
import { type PriceTable, shippedPriceTable } from "../cost/mod.ts";
import type { StorageClass } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";
import type { RepoPricing } from "./pricing.ts";
import { groupsOf, type ObjectRead, priceReads, readEstimateReport } from "./read_estimate.ts";

const GiB = 2 ** 30;

/**
 * The us-east-1 table with round prices of this test's own, so every figure below can be
 * worked out by hand (and a price taken from anywhere but the table would show).
 */
function testTable(): PriceTable {
  const t = structuredClone(shippedPriceTable("us-east-1"));
  const set = (figure: { value: number }, value: number) => figure.value = value;
  set(t.restore.DEEP_ARCHIVE!.bulk!.per_gb, 0.01);
  set(t.restore.DEEP_ARCHIVE!.bulk!.per_1000, 1);
  set(t.restore.DEEP_ARCHIVE!.standard!.per_gb, 0.1);
  set(t.restore.DEEP_ARCHIVE!.standard!.per_1000, 10);
  set(t.requests_per_1000.DEEP_ARCHIVE.get, 0.5);
  set(t.requests_per_1000.STANDARD.get, 0.25);
  set(t.requests_per_1000.STANDARD_IA.get, 1);
  set(t.retrieval_per_gb.STANDARD_IA!, 0.02);
  t.storage_gb_month.STANDARD = [{ ...t.storage_gb_month.STANDARD[0], up_to_gb: null }];
  set(t.storage_gb_month.STANDARD[0].usd, 0.03);
  set(t.egress_internet.free_gb_month, 1);
  t.egress_internet.tiers = [{ ...t.egress_internet.tiers[0], up_to_gb: null }];
  set(t.egress_internet.tiers[0].usd, 0.1);
  set(t.fargate.vcpu_hour, 0.04);
  set(t.fargate.gb_hour, 0.005);
  return t;
}

const pricing: RepoPricing = { table: testTable(), asIfS3: false, coldClass: "DEEP_ARCHIVE" };

function read(storageClass: StorageClass, bytes: number, more: Partial<ObjectRead> = {}) {
  return { storageClass, bytes, archived: false, gets: 1, readBytes: bytes, ...more };
}

/**
 * Three archived Deep Archive packs of 1 GiB, each read in two ranges of 0.25 GiB, and one
 * STANDARD metadata copy of 0.5 GiB read in four: 6 + 4 GETs, 2 GiB downloaded.
 */
const packs: ObjectRead[] = [
  ...[1, 2, 3].map(() =>
    read("DEEP_ARCHIVE", GiB, { archived: true, gets: 2, readBytes: GiB / 2 })
  ),
  read("STANDARD", GiB / 2, { gets: 4 }),
];

/** The items of an estimate as "what: usd" lines. */
const lines = (e: { items: { what: string; usd: number }[] }) =>
  e.items.map((i) => `${i.what}: ${i.usd}`);

/** §1.3 Hours to move 2 GiB at `mbit` Mbit/s. */
const hoursFor2GiB = (mbit: number) => (2 * GiB * 8) / (mbit * 1e6) / 3600;

/** Estimates give hours to a millionth. */
function assertHours(hours: { min: number; max: number }, min: number, max: number) {
  assert.ok(
    Math.abs(hours.min - min) <= 1e-6 && Math.abs(hours.max - max) <= 1e-6,
    JSON.stringify(hours),
  );
}

Deno.test("groupsOf() sums each class, counting as archived only the objects that are", () => {
  const groups = groupsOf([
    read("DEEP_ARCHIVE", 100, { archived: true, gets: 2, readBytes: 40 }),
    read("STANDARD", 7, { gets: 3 }),
    read("DEEP_ARCHIVE", 50, { gets: 1, readBytes: 50 }),
    read("DEEP_ARCHIVE", 30, { archived: true, gets: 4, readBytes: 20 }),
  ]);
  assert.deepEqual(groups, [
    { storageClass: "DEEP_ARCHIVE", archived: { objects: 2, bytes: 130 }, gets: 7, readBytes: 110 },
    { storageClass: "STANDARD", archived: { objects: 0, bytes: 0 }, gets: 3, readBytes: 7 },
  ]);
  assert.deepEqual(groupsOf([]), []);
});

Deno.test("priceReads() itemises the chosen read: restores of the archived packs, a GET per range, egress past the free allowance", () => {
  const { chosen } = priceReads(pricing, packs, { days: 3 });
  assert.equal(chosen.tier, "standard", "the default fallback, which Deep Archive offers");
  assert.equal(chosen.to, "internet");
  assert.deepEqual(lines(chosen.estimate), [
    "restore requests, DEEP_ARCHIVE standard: 0.03", // 3 requests × $10 / 1,000
    "retrieval, DEEP_ARCHIVE standard: 0.3", // 3 GB × $0.1
    "restored copy, 3 days at STANDARD rates: 0.009", // 3 GB × 3/30 month × $0.03
    "GET requests, DEEP_ARCHIVE: 0.003", // 6 × $0.5 / 1,000
    "GET requests, STANDARD: 0.001", // 4 × $0.25 / 1,000: the hot copy is not restored
    "internet egress, monthly free allowance: 0", // the first 1 GB
    "internet egress: 0.1", // the other 1 GB × $0.1
  ]);
  assert.equal(chosen.estimate.total_usd, 0.443);
  // Deep Archive standard is "within 12 hours", then 2 GiB at 1,000 to 100 Mbit/s.
  assertHours(chosen.estimate.hours, hoursFor2GiB(1000), 12 + hoursFor2GiB(100));
  assert.equal(chosen.estimate.prices.region, "us-east-1");
});

Deno.test("priceReads() prices every tier the archived class offers, to the internet and in the region", () => {
  const { alternatives } = priceReads(pricing, packs, { days: 3 });
  assert.deepEqual(
    alternatives.map((a) => `${a.tier}/${a.to}`),
    ["bulk/internet", "bulk/region", "standard/internet", "standard/region"],
  );
  const total = (tier: string, to: string) =>
    alternatives.find((a) => a.tier === tier && a.to === to)!.estimate.total_usd;
  // bulk: 3 × $1 / 1,000 + 3 GB × $0.01, the same copy, GETs and egress as standard.
  assert.equal(total("bulk", "internet"), 0.146);
  assert.equal(total("standard", "internet"), 0.443);
  // In the region: no egress, but a 2 vCPU / 4 GB task for the slowest in-region download.
  const task = hoursFor2GiB(1000) * (2 * 0.04 + 4 * 0.005);
  const region = alternatives.find((a) => a.tier === "bulk" && a.to === "region")!.estimate;
  assert.ok(Math.abs(region.total_usd - (0.146 - 0.1 + task)) <= 2e-6, `${region.total_usd}`);
  assert.ok(lines(region).includes("transfer to EC2/Fargate in us-east-1: 0"));
  assert.ok(!lines(region).some((l) => l.startsWith("internet egress")));
  assert.ok(Math.abs(total("standard", "region") - (0.443 - 0.1 + task)) <= 2e-6);
});

Deno.test("priceReads() chooses the tier asked for, else the fallback when offered, else the cheapest", () => {
  const chosen = (choice: Parameters<typeof priceReads>[2]) => {
    const c = priceReads(pricing, packs, choice).chosen;
    return `${c.tier}/${c.to}`;
  };
  assert.equal(chosen({ days: 3, tier: "bulk", to: "region" }), "bulk/region");
  assert.equal(chosen({ days: 3, fallback: "bulk" }), "bulk/internet");
  assert.equal(chosen({ days: 3, fallback: "expedited" }), "bulk/internet", "not offered");
  const glacier = [read("GLACIER", GiB, { archived: true })];
  const c = priceReads(pricing, glacier, { days: 1, fallback: "expedited" }).chosen;
  assert.equal(c.tier, "expedited", "GLACIER offers it");
});

Deno.test("priceReads() refuses a tier the archived classes do not all offer, naming those they do", () => {
  assert.throws(
    () => priceReads(pricing, packs, { days: 3, tier: "expedited" }),
    (e: unknown) =>
      e instanceof InvalidRequest &&
      e.message ===
        'the packs to read offer no "expedited" restore tier; they offer: bulk, standard',
  );
  // GLACIER offers expedited, but a restore uses one tier for all its packs.
  const mixed = [read("GLACIER", GiB, { archived: true }), ...packs];
  const tiers = priceReads(pricing, mixed, { days: 3 }).alternatives.map((a) => a.tier);
  assert.deepEqual([...new Set(tiers)], ["bulk", "standard"]);
  assert.throws(() => priceReads(pricing, mixed, { days: 3, tier: "expedited" }), InvalidRequest);
});

Deno.test("priceReads() of packs none of which is archived has no tier: nothing is restored", () => {
  const readable = [
    read("DEEP_ARCHIVE", GiB, { gets: 2, readBytes: GiB / 2 }), // a restored copy
    read("STANDARD_IA", GiB / 2, { gets: 4 }),
  ];
  const r = priceReads(pricing, readable, { days: 3, tier: "expedited" });
  assert.deepEqual(r.alternatives.map((a) => [a.tier, a.to]), [
    [undefined, "internet"],
    [undefined, "region"],
  ]);
  assert.equal(r.chosen.tier, undefined, "the tier asked for is moot");
  assert.deepEqual(lines(r.chosen.estimate), [
    "GET requests, DEEP_ARCHIVE: 0.001", // 2 × $0.5 / 1,000
    "retrieval, STANDARD_IA: 0.01", // 0.5 GB read × $0.02
    "GET requests, STANDARD_IA: 0.004", // 4 × $1 / 1,000
    "internet egress, monthly free allowance: 0",
  ]);
  assert.equal(r.chosen.estimate.total_usd, 0.015);
  assertHours(r.chosen.estimate.hours, hoursFor2GiB(1000) / 2, hoursFor2GiB(100) / 2);
});

Deno.test("readEstimateReport() gives the chosen estimate's fields, then every alternative, the plan and the notes", () => {
  const r = priceReads(pricing, packs, { days: 3, tier: "bulk" });
  const plan = { packs: 4 };
  const report = readEstimateReport(r, plan, ["a note"]);
  assert.deepEqual(report, {
    ...r.chosen.estimate,
    tier: "bulk",
    to: "internet",
    alternatives: r.alternatives.map((a) => ({ tier: a.tier, to: a.to, ...a.estimate })),
    plan,
    notes: ["a note"],
  });
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, "plain data");

  const none = priceReads(pricing, [read("STANDARD", GiB)], { days: 3 });
  const unrestored = readEstimateReport(none, plan, []);
  assert.equal(unrestored.tier, null, "null, not absent, when nothing is restored");
  assert.deepEqual(unrestored.alternatives.map((a) => a.tier), [null, null]);
});
