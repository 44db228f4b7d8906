import assert from "node:assert/strict";
import { parsePriceTable, shippedPriceTable, shippedRegions } from "./price_table.ts";
import rules from "./prices/rules.json" with { type: "json" };
import usEast1 from "./prices/us-east-1.json" with { type: "json" };

/** A deep copy of the us-east-1 file with one change made by `edit`. */
function broken(edit: (t: any) => void, of: unknown = usEast1): unknown {
  const copy = structuredClone(of);
  edit(copy);
  return copy;
}

function fails(region: unknown, message: RegExp, rulesJson: unknown = rules): void {
  assert.throws(() => parsePriceTable(region, rulesJson, "test.json", "rules-test.json"), {
    name: "TypeError",
    message,
  });
}

Deno.test("every shipped table parses, for at least the four promised regions", () => {
  for (const region of ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]) {
    assert.ok(shippedRegions.includes(region), region);
  }
  for (const region of shippedRegions) {
    const t = shippedPriceTable(region);
    assert.equal(t.region, region);
    assert.match(t.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(t.origin, `shipped table host/cost/prices/${region}.json`);
  }
});

Deno.test("the shipped rules are AWS's: minimum durations, sizes and archive overhead", () => {
  const { classes, archive_overhead, gb_bytes, restored_copy_class } =
    shippedPriceTable("us-east-1")
      .rules;
  assert.deepEqual(
    Object.values(classes).map((c) => [c.min_days.value, c.min_object_bytes.value, c.archived]),
    [[0, 0, false], [30, 128 * 1024, false], [90, 128 * 1024, false], [90, 0, true], [
      180,
      0,
      true,
    ]],
  );
  assert.equal(archive_overhead.standard_bytes.value, 8 * 1024);
  assert.equal(archive_overhead.archive_bytes.value, 32 * 1024);
  assert.equal(gb_bytes.value, 2 ** 30);
  assert.equal(restored_copy_class.value, "STANDARD");
});

Deno.test("every figure has a source URL and a date, and a verified one says where it was read", () => {
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== "object" || v === null) return;
    const o = v as Record<string, unknown>;
    if ("value" in o) {
      assert.match(String(o.source), /^https?:\/\//, path);
      assert.match(String(o.date), /^\d{4}-\d{2}-\d{2}$/, path);
      assert.equal(typeof o.verified, "boolean", path);
      if (o.verified) assert.equal(typeof o.seen_in, "string", path);
      else assert.equal(typeof o.note, "string", `${path}: an unverified figure says why`);
      return;
    }
    for (const [k, child] of Object.entries(o)) walk(child, `${path}.${k}`);
  };
  walk(rules, "rules");
  for (const region of shippedRegions) walk(shippedPriceTable(region), region);
});

Deno.test("an unknown region is refused with the list of known ones", () => {
  assert.throws(() => shippedPriceTable("mars-1"), {
    name: "RangeError",
    message: /region "mars-1"; known regions: us-east-1, us-west-2, eu-west-1, eu-central-1/,
  });
});

Deno.test("a missing price names its field", () => {
  fails(
    broken((t) => delete t.storage_gb_month.DEEP_ARCHIVE),
    /"test.json": "storage_gb_month.DEEP_ARCHIVE" must be a non-empty list/,
  );
  fails(
    broken((t) => delete t.restore.DEEP_ARCHIVE.bulk.per_1000.value),
    /"restore.DEEP_ARCHIVE.bulk.per_1000.value" is missing/,
  );
  fails(broken((t) => delete t.fargate), /"fargate" is missing/);
});

Deno.test("a price that is not a number of 0 or more is refused", () => {
  fails(
    broken((t) => t.storage_gb_month.GLACIER[0].usd.value = "0.0036"),
    /"storage_gb_month.GLACIER\[0\].usd.value" must be a number ≥ 0, got "0.0036"/,
  );
  fails(
    broken((t) => t.requests_per_1000.STANDARD.put.value = -1),
    /"requests_per_1000.STANDARD.put.value" must be a number ≥ 0, got -1/,
  );
});

Deno.test("a figure without a URL source or a date, or verified without evidence, is refused", () => {
  fails(
    broken((t) => t.egress_internet.free_gb_month.source = "the AWS site"),
    /"egress_internet.free_gb_month.source" must be a URL/,
  );
  fails(
    broken((t) => t.fargate.gb_hour.date = "last May"),
    /"fargate.gb_hour.date" must be a date \(YYYY-MM-DD\)/,
  );
  fails(
    broken((t) => delete t.ec2_reference.hour.seen_in),
    /"ec2_reference.hour.seen_in" is missing \(a verified figure says where it was read\)/,
  );
});

Deno.test("price bands must rise and end unbounded", () => {
  fails(
    broken((t) => t.egress_internet.tiers[1].up_to_gb = 100),
    /"egress_internet.tiers\[1\].up_to_gb" must be more than 10240, got 100/,
  );
  fails(
    broken((t) => t.egress_internet.tiers[3].up_to_gb = 999_999),
    /"egress_internet.tiers\[3\].up_to_gb" must be null in the last tier/,
  );
});

Deno.test("the restore tiers priced must be exactly those restore_times.ts offers", () => {
  fails(
    broken((t) => t.restore.DEEP_ARCHIVE.expedited = t.restore.DEEP_ARCHIVE.standard),
    /"restore.DEEP_ARCHIVE" must price the tiers host\/cold\/restore_times.ts offers \(bulk, standard\), got "bulk, expedited, standard"/,
  );
  fails(
    broken((t) => delete t.restore.GLACIER.expedited),
    /"restore.GLACIER" must price the tiers .* \(bulk, expedited, standard\), got "bulk, standard"/,
  );
  fails(
    broken((t) => t.restore.GLACIER.instant = {}),
    /"restore.GLACIER.instant" is not a restore tier/,
  );
});

Deno.test("an unknown storage class key is refused", () => {
  fails(
    broken((t) => t.requests_per_1000.ONEZONE_IA = t.requests_per_1000.STANDARD_IA),
    /"requests_per_1000.ONEZONE_IA" is not a storage class/,
  );
});

Deno.test("malformed rules name the rules file and the field", () => {
  fails(
    usEast1,
    /"rules-test.json": "classes.DEEP_ARCHIVE.min_days.value" must be a number ≥ 0, got "180 days"/,
    broken((r) => r.classes.DEEP_ARCHIVE.min_days.value = "180 days", rules),
  );
  fails(
    usEast1,
    /"rules-test.json": "restored_copy_class.value" must be a storage class, got "RRS"/,
    broken((r) => r.restored_copy_class.value = "RRS", rules),
  );
});
