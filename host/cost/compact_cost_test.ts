import assert from "node:assert/strict";
import { chooseCompaction, compactBreakEven } from "./compact_break_even.ts";
import type { CompactPack } from "./compact_cost.ts";
import { estimateCompact } from "./compact_estimate.ts";
import type { LineItem } from "./estimate.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const lines = (items: LineItem[]) => items.map((i) => [i.quantity, i.unit_usd, i.usd]);

/** docs/cost-model.md §13.7: 1 GiB of DEEP_ARCHIVE, 256 MiB live, 768 MiB dead, 120 days old. */
const example: CompactPack = {
  id: "example",
  storageClass: "DEEP_ARCHIVE",
  bytes: GiB,
  liveBytes: 256 * MiB,
  deadBytes: 768 * MiB,
  ageDays: 120,
};

Deno.test("compacting the cost-model example in the region pays: $0.007427 saved against $0.005823", () => {
  const d = compactBreakEven(example, table, { to: "region" });
  // 60 of its 180 days are left, so the old pack goes at day 60 and the saving runs 300 days
  // of the 360-day horizon (10 months):
  //   dead:      0.75 GB × 10 = 7.5 GB-month × $0.00099                       = $0.007425
  //   overhead:  8 KiB = 0.00000763 GB × 10 = 0.000076 GB-month × $0.023      = $0.000002
  //              32 KiB = 0.0000305 GB × 10 = 0.000305 GB-month × $0.00099    = $0.0000003 → 0
  assert.equal(d.kind, "repack");
  assert.equal(d.deleteAfterDays, 60);
  assert.deepEqual(lines(d.saving.items), [
    [7.5, 0.00099, 0.007425],
    [0.000076, 0.023, 0.000002],
    [0.000305, 0.00099, 0],
  ]);
  assert.equal(d.saving.total_usd, 0.007427);
  // cost:
  //   restore (bulk) 1 request = 0.001 × $0.025                              = $0.000025
  //   retrieval 1 GB × $0.0025                                               = $0.0025
  //   restored copy 1 GB × 3/30 = 0.1 GB-month × $0.023                      = $0.0023
  //   GET 0.001 × $0.0004                                                    = $0.0000004 → 0
  //   transfer to Fargate 1 GB × $0                                          = $0
  //   job: read 1 GiB + write 0.25 GiB = 1.25 × 2^30 × 8 bits at 1 Gbit/s = 10.737 s
  //        = 0.00298262 h; 2 vCPU → 0.005965 vCPU-h × $0.04048               = $0.000241
  //        4 GB → 0.011930 GB-h × $0.004445                                  = $0.000053
  //   new packs: 256 MiB / 64 MiB = 4 objects, one PutObject each (up to 96 MiB):
  //        0.004 × $0.05                                                     = $0.0002
  //   overlap: 0.25 GB stored twice for 60 days = 0.5 GB-month × $0.00099    = $0.000495
  //   new packs' overhead for 12 months: 4 × 8 KiB × 12 = 0.000366 GB-month × $0.023 = $0.000008
  //                                      4 × 32 KiB × 12 = 0.001465 × $0.00099        = $0.000001
  assert.deepEqual(lines(d.cost.items), [
    [0.001, 0.025, 0.000025],
    [1, 0.0025, 0.0025],
    [0.1, 0.023, 0.0023],
    [0.001, 0.0004, 0],
    [1, 0, 0],
    [0.005965, 0.04048, 0.000241],
    [0.01193, 0.004445, 0.000053],
    [0.004, 0.05, 0.0002],
    [0.5, 0.00099, 0.000495],
    [0.000366, 0.023, 0.000008],
    [0.001465, 0.00099, 0.000001],
  ]);
  assert.equal(d.cost.total_usd, 0.005823);
  assert.equal(d.net_usd, 0.001604);
  assert.equal(d.worthIt, true);
  // bulk: within 48 h, then 10.7 s (at 1 Gbit/s) to 2.1 s (at 5 Gbit/s) of reading and writing
  assert.deepEqual(d.cost.hours, { min: 0.000597, max: 48.002983 });
});

Deno.test("compacting the same pack at home does not pay: egress alone is $0.09", () => {
  // The month's free allowance used up (as chooseCompaction judges every pack): 1 GB × $0.09.
  // The cost is the region's without the job ($0.000294) and with egress: 0.005823 − 0.000294
  // + 0.09 = $0.095529.
  const d = compactBreakEven(example, table, { to: "internet", freeEgressGB: 0 });
  assert.ok(d.cost.items.some((i) => i.what === "internet egress (first 10 TB)" && i.usd === 0.09));
  assert.equal(d.cost.total_usd, 0.095529);
  assert.equal(d.net_usd, -0.088102);
  assert.equal(d.worthIt, false);
});

Deno.test("paying the early-deletion fee instead of waiting changes the lines, not the net", () => {
  const d = compactBreakEven(example, table, { to: "region", acceptEarlyFee: true });
  // Deleted now: the saving runs the whole 12 months (0.75 × 12 = 9 GB-month × $0.00099 =
  // $0.00891, + $0.000002 overhead), there is no overlap, but the 60 days left are billed:
  // 1 GB × 2 months = 2 GB-month × $0.00099 = $0.00198.
  assert.equal(d.deleteAfterDays, 0);
  assert.equal(d.saving.total_usd, 0.008912);
  assert.ok(!d.cost.items.some((i) => i.what.startsWith("live bytes stored twice")));
  assert.deepEqual(lines(d.cost.items.slice(-1)), [[2, 0.00099, 0.00198]]);
  assert.equal(d.cost.total_usd, 0.007308); // 0.005823 − 0.000495 + 0.00198
  assert.equal(d.net_usd, 0.001604);
});

Deno.test("a fully dead pack costs nothing to compact and just becomes purgeable", () => {
  const dead = { ...example, id: "dead", liveBytes: 0, deadBytes: GiB, ageDays: 200 };
  const d = compactBreakEven(dead, table, { to: "internet", freeEgressGB: 0 });
  // past its minimum: 1 GB × 12 months × $0.00099 = $0.01188, + $0.000002 overhead
  assert.equal(d.kind, "purge");
  assert.deepEqual(d.cost.items, []);
  assert.deepEqual(d.cost.hours, { min: 0, max: 0 });
  assert.equal(d.saving.total_usd, 0.011882);
  assert.equal(d.worthIt, true);
  // written today with a 6-month horizon: it cannot go before day 180, so nothing is saved
  const young = compactBreakEven({ ...dead, ageDays: 0 }, table, {
    to: "region",
    horizonMonths: 6,
  });
  assert.equal(young.saving.total_usd, 0);
  assert.equal(young.worthIt, false);
});

Deno.test("a metadata pack's live blobs come from its hot copy, and its dead bytes count twice", () => {
  const meta: CompactPack = {
    id: "meta",
    storageClass: "DEEP_ARCHIVE",
    bytes: 8 * MiB,
    liveBytes: 3 * MiB,
    deadBytes: 5 * MiB,
    ageDays: 200,
    metadata: true,
  };
  const d = compactBreakEven(meta, table, { to: "region" });
  // saving over 12 months (past the minimum; the hot copy has none):
  //   cold: 5/1024 GB × 12 = 0.058594 GB-month × $0.00099 = $0.000058
  //   old pack overhead $0.000002 and $0 (as above, 12 months)
  //   hot:  0.058594 GB-month × $0.023                     = $0.001348
  assert.deepEqual(lines(d.saving.items), [
    [0.058594, 0.00099, 0.000058],
    [0.000092, 0.023, 0.000002],
    [0.000366, 0.00099, 0],
    [0.058594, 0.023, 0.001348],
  ]);
  // cost: no restore, no restored copy: one GET of meta/<id> at STANDARD ($0.0000004 → 0), free
  // transfer, the job (11 MiB at 1 Gbit/s = 0.0000256 h: 0.000051 vCPU-h = $0.000002,
  // 0.000103 GB-h = $0), 3/8 of a new 8 MiB pack: 0.000375 thousand PUTs at $0.05 = $0.000019
  // and its hot copy at $0.005 = $0.000002, and its overhead for 12 months ($0.000001 + $0).
  assert.ok(!d.cost.items.some((i) => /restore|retrieval/.test(i.what)));
  assert.deepEqual(d.cost.items.map((i) => i.what), [
    "GET requests, STANDARD",
    "transfer to EC2/Fargate in us-east-1",
    "Fargate task, 2 vCPU",
    "Fargate task, 4 GB memory",
    "new packs: PUT requests, DEEP_ARCHIVE",
    "new hot copies: PUT requests, STANDARD",
    "new packs: per-object overhead, 8 KB each at STANDARD rates (first 50 TB)",
    "new packs: per-object overhead, 32 KB each at DEEP_ARCHIVE rates",
  ]);
  assert.deepEqual(lines(d.cost.items), [
    [0.001, 0.0004, 0],
    [0.007813, 0, 0],
    [0.000051, 0.04048, 0.000002],
    [0.000103, 0.004445, 0],
    [0.000375, 0.05, 0.000019],
    [0.000375, 0.005, 0.000002],
    [0.000034, 0.023, 0.000001],
    [0.000137, 0.00099, 0],
  ]);
  assert.equal(d.saving.total_usd, 0.001408);
  assert.equal(d.cost.total_usd, 0.000024);
  assert.equal(d.cost.hours.max, 0.000026); // no restore to wait for
  assert.equal(d.worthIt, true);
});

Deno.test("a horizon shorter than the new packs' minimum counts the rest of their clock", () => {
  const d = compactBreakEven(example, table, { to: "region", horizonMonths: 3 });
  // new packs hold 0.25 GB for at least 180 days; the horizon covers 90: 0.25 × 3 = 0.75 GB-month
  const clock = d.cost.items.find((i) => i.what.startsWith("new packs: minimum storage duration"));
  assert.deepEqual(clock && [clock.quantity, clock.unit_usd], [0.75, 0.00099]);
  // and the saving runs only from day 60 to day 90: 0.75 GB × 1 month
  assert.equal(d.saving.items[0].quantity, 0.75);
  assert.equal(d.worthIt, false);
});

Deno.test("chooseCompaction keeps the packs that pay, best first, judging egress at the margin", () => {
  const dead = { ...example, id: "dead", liveBytes: 0, deadBytes: GiB, ageDays: 200 };
  const mostlyLive = { ...example, id: "mostly-live", liveBytes: 900 * MiB, deadBytes: 124 * MiB };
  const inRegion = chooseCompaction([mostlyLive, example, dead], table, { to: "region" });
  assert.deepEqual(inRegion.worthIt.map((d) => d.pack.id), ["dead", "example"]);
  assert.deepEqual(inRegion.notWorthIt.map((d) => d.pack.id), ["mostly-live"]);
  assert.equal(inRegion.net_usd, 0.013486); // 0.011882 + 0.001604
  // at home the allowance is not counted per pack: the example pays $0.09 of egress
  const atHome = chooseCompaction([mostlyLive, example, dead], table, { to: "internet" });
  assert.deepEqual(atHome.worthIt.map((d) => d.pack.id), ["dead"]);
});

Deno.test("estimateCompact prices the set gc compact would run: reads, PUTs and the new packs' minimum", () => {
  const dead = { ...example, id: "dead", liveBytes: 0, deadBytes: GiB, ageDays: 200 };
  const e = estimateCompact([example, dead], table, { to: "region" });
  // The fully dead pack adds nothing. The example pack: its restore, copy, GET, transfer and
  // job as in the break-even ($0.005119), then 4 new packs of 64 MiB: the same PUTs ($0.0002),
  // storage of 0.25 GB for the first month ($0.0002475) and the rest of the 180 days, 5 months
  // (1.25 GB-month × $0.00099 = $0.0012375), their overhead for a month ($0.000001 + $0).
  assert.deepEqual(e.items.map((i) => i.what).slice(7), [
    "new packs: PUT requests, DEEP_ARCHIVE",
    "new packs: storage, DEEP_ARCHIVE",
    "new packs: per-object overhead, 8 KB each at STANDARD rates (first 50 TB)",
    "new packs: per-object overhead, 32 KB each at DEEP_ARCHIVE rates",
    "new packs: minimum storage duration (180 days), the rest billed anyway",
  ]);
  // (the two half-millionths round as the floating-point products fall: up, then down)
  assert.deepEqual(lines(e.items.slice(8)), [
    [0.25, 0.00099, 0.000248],
    [0.000031, 0.023, 0.000001],
    [0.000122, 0.00099, 0],
    [1.25, 0.00099, 0.001237],
  ]);
  assert.equal(e.total_usd, 0.006805); // 0.005119 + 0.0002 + 0.000248 + 0.000001 + 0.001237
  assert.deepEqual(e.hours, { min: 0.000597, max: 48.002983 });
  // nothing to repack: nothing to pay, no waiting
  const none = estimateCompact([dead], table, { to: "region" });
  assert.equal(none.total_usd, 0);
  assert.deepEqual(none.hours, { min: 0, max: 0 });
});

Deno.test("a pack whose live and dead bytes exceed its size is refused", () => {
  assert.throws(
    () => compactBreakEven({ ...example, liveBytes: GiB }, table, { to: "region" }),
    RangeError,
  );
});
