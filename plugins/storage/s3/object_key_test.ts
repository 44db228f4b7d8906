import assert from "node:assert/strict";
import { objectKey, objectName } from "./object_key.ts";

Deno.test("objectKey() puts a name under the prefix, and objectName() takes it back out", () => {
  assert.equal(objectKey("laptop/home/", "packs/ab12"), "laptop/home/packs/ab12");
  assert.equal(objectKey("", "config"), "config");
  assert.equal(objectName("laptop/home/", "laptop/home/packs/ab12"), "packs/ab12");
  assert.equal(objectName("laptop/home/", "laptop/other/config"), undefined);
  assert.equal(objectName("laptop/home/", "laptop/home/"), undefined);
});

Deno.test("objectKey() refuses names that are no layout path or make too long a key", () => {
  for (const n of ["", "/config", "a//b", "a/", "./a", "a/../b", "..", "a\\b", "a\0b"]) {
    assert.throws(() => objectKey("p/", n), TypeError, n);
  }
  assert.throws(() => objectKey("p/", "x".repeat(1023)), /longer than S3 allows/);
});
