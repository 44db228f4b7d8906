import assert from "node:assert/strict";
import { describeHours, tiersOf } from "./restore_times.ts";

Deno.test("Deep Archive offers bulk and standard, Glacier all three, hot classes none", () => {
  assert.deepEqual(tiersOf("DEEP_ARCHIVE"), ["bulk", "standard"]);
  assert.deepEqual(tiersOf("GLACIER"), ["bulk", "standard", "expedited"]);
  assert.deepEqual(tiersOf("STANDARD"), []);
  assert.deepEqual(tiersOf("GLACIER_IR"), []);
});

Deno.test("restore times read as people say them", () => {
  assert.equal(describeHours({ min: 0, max: 48 }), "within 48 hours");
  assert.equal(describeHours({ min: 3, max: 5 }), "3-5 hours");
  assert.equal(describeHours({ min: 1 / 60, max: 5 / 60 }), "1-5 minutes");
});
