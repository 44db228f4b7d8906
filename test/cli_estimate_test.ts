import assert from "node:assert/strict";
import { cli } from "./helpers.ts";

interface Estimate {
  total_usd: number;
  hours: { min: number; max: number };
  items: { what: string; quantity: number; unit: string; unit_usd: number; usd: number }[];
  prices: { region: string; date: string; source: string };
}

/** Runs `permafrost estimate ... --json` and checks the shape the issue promises. */
async function estimate(...args: string[]): Promise<Estimate> {
  const out = await cli(["estimate", ...args, "--json"], { PERMAFROST_REPO: "/nonexistent/repo" });
  assert.equal(out.code, 0, out.stderr);
  const e = JSON.parse(out.stdout);
  assert.deepEqual(Object.keys(e).sort(), ["hours", "items", "prices", "total_usd"]);
  assert.deepEqual(Object.keys(e.hours).sort(), ["max", "min"]);
  assert.deepEqual(Object.keys(e.prices).sort(), ["date", "region", "source"]);
  assert.ok(e.items.length > 0);
  for (const item of e.items) {
    assert.deepEqual(Object.keys(item).sort(), ["quantity", "unit", "unit_usd", "usd", "what"]);
    assert.equal(typeof item.what, "string");
    assert.ok(Math.abs(item.quantity * item.unit_usd - item.usd) < 1e-5, item.what);
  }
  const sum = e.items.reduce((s: number, i: { usd: number }) => s + i.usd, 0);
  assert.ok(Math.abs(sum - e.total_usd) < 1e-9, `items add up to ${sum}, total ${e.total_usd}`);
  assert.ok(e.hours.min <= e.hours.max);
  return e;
}

Deno.test("estimate store prices 1 TiB of Deep Archive for a year, without a repository", async () => {
  const e = await estimate(
    "store",
    ...["--size", "1TiB", "--object-size", "128MiB", "--class", "DEEP_ARCHIVE", "--months", "12"],
  );
  // storage 12.16512 + overhead 0.01725 + 0.00297 + uploads 0.12288 + 0.4096
  // (host/cost/store_cost_test.ts)
  assert.equal(e.total_usd, 12.71782);
  assert.deepEqual(e.prices.region, "us-east-1");
  assert.match(e.prices.source, /us-east-1\.json/);
});

Deno.test("estimate restore, to the internet and in the region", async () => {
  const args = ["--size", "10GiB", "--object-size", "64MiB", "--class", "DEEP_ARCHIVE"];
  const home = await estimate(
    "restore",
    ...args,
    "--tier",
    "bulk",
    "--to",
    "internet",
    "--days",
    "3",
  );
  assert.equal(home.total_usd, 0.052064); // host/cost/restore_cost_test.ts
  assert.equal(home.hours.max > 48, true);
  const region = await estimate(
    "restore",
    ...args,
    "--tier",
    "bulk",
    "--to",
    "region",
    "--days",
    "3",
  );
  assert.ok(region.items.some((i) => i.what.startsWith("Fargate task")));
  assert.ok(!region.items.some((i) => i.what.startsWith("internet egress")));
});

Deno.test("estimate delete charges the rest of the 180 days", async () => {
  const e = await estimate(
    "delete",
    ...["--size", "100GiB", "--class", "DEEP_ARCHIVE", "--age-days", "30"],
  );
  assert.equal(e.total_usd, 0.495); // 100 GB × 150/30 months × $0.00099
  assert.deepEqual(e.hours, { min: 0, max: 0 });
});

Deno.test("estimate rebuild costs far less in the region than at home", async () => {
  const args = ["--size", "1TiB", "--object-size", "128MiB", "--class", "DEEP_ARCHIVE"];
  const home = await estimate("rebuild", ...args, "--to", "internet");
  const region = await estimate("rebuild", ...args, "--to", "region");
  assert.equal(home.total_usd, 88.283277); // host/cost/rebuild_cost_test.ts
  assert.equal(region.total_usd, 5.364534);
});

Deno.test("estimate takes --region and says which table it used", async () => {
  const e = await estimate(
    "store",
    ...["--size", "1TiB", "--object-size", "128MiB", "--months", "12", "--region", "eu-central-1"],
  );
  assert.equal(e.prices.region, "eu-central-1");
  assert.match(e.prices.source, /eu-central-1\.json/);
});

Deno.test("estimate prints an aligned table with the total, the time and the prices used", async () => {
  const out = await cli(["estimate", "delete", "--size", "100GiB", "--age-days", "30"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /early deletion, 150 days of the 180-day minimum left +500 +GB-month/);
  assert.match(out.stdout, /\ntotal +\$0\.495\n/);
  assert.match(out.stdout, /time: +no waiting/);
  assert.match(out.stdout, /prices: us-east-1, US East \(N\. Virginia\), as of \d{4}-\d{2}-\d{2}/);
});

Deno.test("estimate mistakes get one actionable line and exit status 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["restore", "--size", "1GiB", "--object-size", "1MiB", "--tier", "expedited"],
      /DEEP_ARCHIVE offers no "expedited" restore tier; it offers: bulk, standard/,
    ],
    [
      ["store", "--size", "1GiB", "--object-size", "1MiB", "--months", "1", "--class", "ONEZONE"],
      /unknown storage class "ONEZONE"; one of: STANDARD, STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE/,
    ],
    [
      ["store", "--size", "1GiB", "--object-size", "1MiB", "--months", "1", "--region", "mars-1"],
      /no price table for region "mars-1"; known regions: us-east-1, us-west-2, eu-west-1, eu-central-1/,
    ],
    [
      ["restore", "--size", "1GiB", "--object-size", "1MiB", "--to", "moon"],
      /--to is "internet" or "region", not "moon"/,
    ],
    [
      ["store", "--size", "lots", "--object-size", "1MiB", "--months", "1"],
      /--size: size "lots" is not a number/,
    ],
    [["store", "--size", "1GiB", "--months", "1"], /--object-size is required/],
    [["frobnicate"], /unknown estimate "frobnicate"; one of: store, restore, delete, rebuild/],
  ];
  for (const [args, message] of cases) {
    const out = await cli(["estimate", ...args]);
    assert.equal(out.code, 2, args.join(" "));
    assert.match(out.stderr, message);
    assert.doesNotMatch(out.stderr, /^\s+at /m); // no stack trace
  }
});
