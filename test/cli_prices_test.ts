import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, tempDir } from "./helpers.ts";
import { refreshPriceTable } from "../host/cost/price_refresh.ts";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { priceList } from "../host/cost/testdata/get_products_s3_us_east_1.ts";

const store = ["estimate", "store", "--size", "1TiB", "--object-size", "128MiB", "--months", "12"];

/** A cache folder holding `text` as us-east-1's cached table; returns the folder and the file. */
async function cacheWith(text?: string): Promise<{ dir: string; file: string }> {
  const dir = await tempDir("pf-prices-");
  const file = join(dir, "prices", "us-east-1.json");
  if (text !== undefined) {
    await Deno.mkdir(join(dir, "prices"));
    await Deno.writeTextFile(file, text);
  }
  return { dir, file };
}

/** The table `prices refresh` would write from the handwritten GetProducts fixture. */
function refreshedFile(date = "2026-12-01"): string {
  const { file } = refreshPriceTable(shippedPriceTable("us-east-1"), priceList, date);
  return JSON.stringify(file, null, 2);
}

Deno.test("estimate store uses a cached refresh, and names its file and date", async () => {
  const { dir, file } = await cacheWith(refreshedFile());
  const out = await cli([...store, "--json"], { PERMAFROST_CACHE_DIR: dir });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, "");
  const e = JSON.parse(out.stdout);
  assert.deepEqual(e.prices, {
    region: "us-east-1",
    date: "2026-12-01",
    source: `cached refresh ${file} of 2026-12-01`,
  });
  // The fixture prices DEEP_ARCHIVE at $0.00095 (the shipped table: $0.00099).
  const storage = e.items.find((i: { what: string }) => /^storage/.test(i.what));
  assert.equal(storage.unit_usd, 0.00095);
  assert.equal(storage.usd, 12288 * 0.00095);
});

Deno.test("a cached table older than the shipped one is not used", async () => {
  const { dir } = await cacheWith(refreshedFile("2026-01-01"));
  const out = await cli([...store, "--json"], { PERMAFROST_CACHE_DIR: dir });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    JSON.parse(out.stdout).prices.source,
    "shipped table host/cost/prices/us-east-1.json",
  );
});

Deno.test("a malformed cached table is ignored with a warning, and the shipped one used", async () => {
  for (const text of ["{ not json", JSON.stringify({ format: 1, region: "us-east-1" })]) {
    const { dir, file } = await cacheWith(text);
    const out = await cli([...store, "--json"], { PERMAFROST_CACHE_DIR: dir });
    assert.equal(out.code, 0, out.stderr);
    const e = JSON.parse(out.stdout);
    assert.equal(e.prices.source, "shipped table host/cost/prices/us-east-1.json");
    assert.equal(e.total_usd, 12.71782); // the shipped table's (test/cli_estimate_test.ts)
    assert.match(out.stderr, new RegExp(`^warning: ignoring the cached price table "${file}"`));
    assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  }
});

Deno.test("prices show names the table in use, its date and source", async () => {
  const { dir, file } = await cacheWith(refreshedFile());
  const out = await cli(["prices", "show", "--json"], { PERMAFROST_CACHE_DIR: dir });
  assert.equal(out.code, 0, out.stderr);
  const shown = JSON.parse(out.stdout);
  assert.equal(shown.date, "2026-12-01");
  assert.equal(shown.source, `cached refresh ${file} of 2026-12-01`);
  assert.equal(shown.table.storage_gb_month.DEEP_ARCHIVE[0].usd.value, 0.00095);
  const human = await cli(["prices", "show", "--region", "eu-west-1"], {
    PERMAFROST_CACHE_DIR: dir,
  });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^prices for eu-west-1 .* table of \d{4}-\d{2}-\d{2}: shipped table/);
});

Deno.test("prices refresh without a reachable API fails in one line and leaves the cache alone", async () => {
  const before = refreshedFile();
  const { dir, file } = await cacheWith(before);
  const env = {
    PERMAFROST_CACHE_DIR: dir,
    AWS_ENDPOINT_URL_PRICING: "http://127.0.0.1:9",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "example",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const out = await cli(["prices", "refresh"], env);
  assert.equal(out.code, 1);
  assert.equal(out.stdout, "");
  assert.match(
    out.stderr,
    /^permafrost: cannot refresh the prices of us-east-1 from the AWS Price List API \(.+\); ".+" was not changed/,
  );
  assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  assert.equal(await Deno.readTextFile(file), before);
  assert.deepEqual([...Deno.readDirSync(join(dir, "prices"))].map((e) => e.name), [
    "us-east-1.json",
  ]);
  // Without credentials, and with no cached file: nothing is created.
  const empty = await cacheWith();
  const none = await cli(["prices", "refresh", "--region", "eu-west-1"], {
    PERMAFROST_CACHE_DIR: empty.dir,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_PROFILE: "permafrost-test-no-such-profile",
    AWS_CONFIG_FILE: join(empty.dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(empty.dir, "no-credentials"),
  });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^permafrost: cannot refresh the prices of eu-west-1/);
  assert.deepEqual([...Deno.readDirSync(empty.dir)], []);
});

Deno.test("prices takes show or refresh, and a known region", async () => {
  const bad = await cli(["prices", "fetch"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown prices command "fetch"; one of: show, refresh/);
  const region = await cli(["prices", "show", "--region", "mars-1"]);
  assert.equal(region.code, 2);
  assert.match(region.stderr, /no price table for region "mars-1"/);
});
