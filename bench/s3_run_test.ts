import assert from "node:assert/strict";
import { addToClassTotals, describeClasses } from "./s3_run.ts";

Deno.test("addToClassTotals() counts objects and bytes per storage class, STANDARD when none is given", () => {
  const totals = addToClassTotals({}, [
    { StorageClass: "DEEP_ARCHIVE", Size: 64e6 },
    { Size: 1000 },
    { StorageClass: "STANDARD", Size: 500 },
  ]);
  addToClassTotals(totals, [{ StorageClass: "DEEP_ARCHIVE", Size: 36e6 }]);
  assert.deepEqual(totals, {
    DEEP_ARCHIVE: { objects: 2, bytes: 100e6 },
    STANDARD: { objects: 2, bytes: 1500 },
  });
  assert.equal(describeClasses(totals), "2 DEEP_ARCHIVE (100.0 MB), 2 STANDARD (1.5 kB)");
});
