import assert from "node:assert/strict";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { s3PluginStart } from "../storage/s3_location.ts";
import { PASSWORD, tempDir, TEST_KDF } from "../../test/helpers.ts";
import { InvalidRequest } from "./invalid_request.ts";
import { repoPricing, storePricing } from "./pricing.ts";

Deno.test("a store that declares no classes is priced as if on S3 in its cold class, with a note", () => {
  const p = storePricing({}, "DEEP_ARCHIVE", { name: "/srv/repo" });
  assert.equal(p.asIfS3, true);
  assert.equal(p.table.region, "us-east-1");
  assert.match(p.note!, /^"\/srv\/repo" is not on S3: priced as if its packs were in DEEP_ARCHIVE/);
});

Deno.test("a store that reports classes but no bill is priced as it reports, without a note", () => {
  const p = storePricing({ properties: { coldStates: true } }, "GLACIER");
  assert.equal(p.asIfS3, false);
  assert.equal(p.note, undefined);
  assert.equal(p.table.region, "us-east-1");
});

Deno.test("a billed store is priced in its own region unless the caller names another", () => {
  const s3 = { properties: { coldStates: true, billedRegion: "eu-west-1" } };
  assert.equal(storePricing(s3, "DEEP_ARCHIVE").table.region, "eu-west-1");
  assert.equal(storePricing(s3, "DEEP_ARCHIVE", { region: "us-west-2" }).table.region, "us-west-2");
});

Deno.test("a region without a price table is an InvalidRequest naming the known ones", () => {
  assert.throws(
    () => storePricing({}, "DEEP_ARCHIVE", { region: "mars-north-1" }),
    (e: unknown) => e instanceof InvalidRequest && /known regions: .*us-east-1/.test(e.message),
  );
});

Deno.test("opened local stores declare whether they keep cold states (cold=simulate)", async () => {
  const dir = await tempDir();
  const plain = await openStorage(`local:${dir}/a`, "admin", { create: true });
  const cold = await openStorage(`local:${dir}/b?cold=simulate`, "admin", { create: true });
  try {
    assert.deepEqual(plain.properties, { coldStates: false, pieces: true });
    assert.deepEqual(cold.properties, { coldStates: true, pieces: true });
  } finally {
    await plain.close();
    await cold.close();
  }
});

Deno.test("an S3 location declares the region that bills it, and its estimates are priced there", () => {
  const noEnv = () => undefined;
  const s3 = s3PluginStart("s3://bucket/laptop?region=eu-central-1", noEnv);
  const p = storePricing(s3, "DEEP_ARCHIVE");
  assert.equal(p.table.region, "eu-central-1");
  assert.equal(p.asIfS3, false);
  assert.equal(p.note, undefined, "a real bill: no as-if note");
  const elsewhere = s3PluginStart("s3://bucket/laptop?region=ap-south-1", noEnv);
  assert.throws(() => storePricing(elsewhere, "DEEP_ARCHIVE"), InvalidRequest);
  assert.equal(
    storePricing(elsewhere, "DEEP_ARCHIVE", { region: "eu-west-1" }).table.region,
    "eu-west-1",
    "a bucket in a region without a table is priced in the region the caller names",
  );
});

Deno.test("a store priced as if on S3 names the region and class it is priced in, and the repository when unnamed", () => {
  const p = storePricing({ properties: { coldStates: false } }, "GLACIER", { region: "eu-west-1" });
  assert.equal(p.table.region, "eu-west-1");
  assert.equal(p.coldClass, "GLACIER");
  assert.equal(
    p.note,
    "the repository is not on S3: priced as if its packs were in GLACIER (the repository's " +
      "cold class) on S3 in eu-west-1, and nothing is billed",
  );
});

Deno.test("repoPricing() prices an opened SQLite repository as if on S3, in its config's cold class", async () => {
  const storage = await openStorage(`sqlite:${await tempDir()}/repo.db`, "admin", { create: true });
  try {
    assert.deepEqual(storage.properties, { coldStates: false });
    const repo = await Repository.init(storage, PASSWORD, {
      kdf: TEST_KDF,
      config: { cold: { storageClass: "GLACIER" } },
    });
    const p = repoPricing(repo, { name: "sqlite:repo.db", region: "us-west-2" });
    assert.equal(p.asIfS3, true);
    assert.equal(p.coldClass, "GLACIER");
    assert.equal(p.table.region, "us-west-2");
    assert.match(
      p.note!,
      /^"sqlite:repo\.db" is not on S3: priced as if its packs were in GLACIER/,
    );
  } finally {
    await storage.close();
  }
});
