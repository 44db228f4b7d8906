import assert from "node:assert/strict";
import { hoursText } from "./estimate_render.ts";

Deno.test("hoursText() gives one number when the shortest and longest wait are the same", () => {
  assert.equal(hoursText({ min: 48, max: 48 }), "48.0 hours (up to 2.0 days)");
  assert.equal(hoursText({ min: 0.5, max: 0.5 }), "30 minutes");
  assert.equal(hoursText({ min: 12, max: 48 }), "12.0-48.0 hours (up to 2.0 days)");
  assert.equal(hoursText({ min: 0, max: 0 }), "no waiting");
  assert.equal(hoursText({ min: 0.05, max: 5 }), "3 minutes to 5.0 hours");
});
