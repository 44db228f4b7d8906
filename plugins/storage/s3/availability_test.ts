import assert from "node:assert/strict";
import { availabilityOf, classOf } from "./availability.ts";

Deno.test("availabilityOf() reads x-amz-restore: in progress, restored until its expiry", () => {
  assert.deepEqual(availabilityOf("DEEP_ARCHIVE", 'ongoing-request="true"'), {
    state: "restoring",
  });
  assert.deepEqual(
    availabilityOf(
      "GLACIER",
      'ongoing-request="false", expiry-date="Fri, 27 Nov 2026 12:36:42 GMT"',
    ),
    { state: "restored", until: "2026-11-27T12:36:42.000Z" },
  );
});

Deno.test("availabilityOf() without x-amz-restore: archive classes are archived, others readable", () => {
  assert.deepEqual(availabilityOf("DEEP_ARCHIVE", undefined), { state: "archived" });
  assert.deepEqual(availabilityOf("GLACIER", ""), { state: "archived" });
  for (const c of [undefined, "STANDARD", "STANDARD_IA", "GLACIER_IR", "INTELLIGENT_TIERING"]) {
    assert.deepEqual(availabilityOf(c, undefined), { state: "readable" }, c);
  }
  assert.deepEqual(availabilityOf("DEEP_ARCHIVE", 'ongoing-request="false"'), {
    state: "archived",
  });
});

Deno.test("classOf() reads an absent class as STANDARD and drops classes the contract lacks", () => {
  assert.equal(classOf(undefined), "STANDARD");
  assert.equal(classOf("DEEP_ARCHIVE"), "DEEP_ARCHIVE");
  assert.equal(classOf("ONEZONE_IA"), undefined);
});
