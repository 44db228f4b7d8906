import assert from "node:assert/strict";
import { openStorage } from "../storage/open.ts";
import { tempDir } from "../../test/helpers.ts";
import { InvalidRequest } from "./invalid_request.ts";
import { storePricing } from "./pricing.ts";

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
    assert.deepEqual(plain.properties, { coldStates: false });
    assert.deepEqual(cold.properties, { coldStates: true });
  } finally {
    await plain.close();
    await cold.close();
  }
});
