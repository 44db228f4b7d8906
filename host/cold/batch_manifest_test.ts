import assert from "node:assert/strict";
import { restoreManifest } from "./batch_manifest.ts";

Deno.test("a restore manifest has one bucket,key line per pack, no header, keys URL-encoded by part", () => {
  const m = restoreManifest("my-backups", [
    { key: "laptop/packs/ab" },
    { key: "my home/packs/c,d+é" },
  ]);
  assert.equal(m.csv, "my-backups,laptop/packs/ab\nmy-backups,my%20home/packs/c%2Cd%2B%C3%A9\n");
  assert.deepEqual(m.fields, ["Bucket", "Key"]);
  assert.equal(m.objects, 2);
});

Deno.test("a restore manifest names versions as a third field when every object has one", () => {
  const m = restoreManifest("b", [{ key: "p/packs/1", versionId: "v1" }, {
    key: "p/packs/2",
    versionId: "v2",
  }]);
  assert.equal(m.csv, "b,p/packs/1,v1\nb,p/packs/2,v2\n");
  assert.deepEqual(m.fields, ["Bucket", "Key", "VersionId"]);
});

Deno.test("a restore manifest refuses no objects, and versions on some objects only", () => {
  assert.throws(() => restoreManifest("b", []), TypeError);
  assert.throws(
    () => restoreManifest("b", [{ key: "a", versionId: "v" }, { key: "b" }]),
    /1 of 2 objects name a version/,
  );
});
