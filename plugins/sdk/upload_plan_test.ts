import assert from "node:assert/strict";
import { defaultUploadRule, s3UploadLimits, uploadPlan } from "./upload_plan.ts";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

Deno.test("uploadPlan() sends every pack of the default sizes in one PutObject", () => {
  // Data packs are 64 MiB and at most one 4 MiB chunk more; metadata packs 8 MiB.
  for (const size of [0, 1, 8 * MiB, 20 * MiB, 64 * MiB, 70 * MiB, 96 * MiB]) {
    assert.deepEqual(
      uploadPlan(size, defaultUploadRule),
      { method: "put", requests: 1 },
      `${size}`,
    );
  }
});

Deno.test("uploadPlan() sends an object over the threshold in parts of the part size, the last one smaller", () => {
  assert.deepEqual(uploadPlan(96 * MiB + 1, defaultUploadRule), {
    method: "parts",
    partSize: 96 * MiB,
    parts: 2,
    requests: 4,
  });
  assert.deepEqual(uploadPlan(1 * GiB, defaultUploadRule), {
    method: "parts",
    partSize: 96 * MiB,
    parts: 11,
    requests: 13,
  });
  const flaky = { multipartThreshold: 16 * MiB, partSize: 8 * MiB };
  assert.deepEqual(uploadPlan(64 * MiB, flaky), {
    method: "parts",
    partSize: 8 * MiB,
    parts: 8,
    requests: 10,
  });
  assert.deepEqual(uploadPlan(16 * MiB, flaky), { method: "put", requests: 1 });
});

Deno.test("uploadPlan() never makes a one-part upload: a PutObject re-sends as much and costs two requests less", () => {
  const rule = { multipartThreshold: 16 * MiB, partSize: 64 * MiB };
  assert.deepEqual(uploadPlan(40 * MiB, rule), { method: "put", requests: 1 });
  assert.deepEqual(uploadPlan(64 * MiB + 1, rule), {
    method: "parts",
    partSize: 64 * MiB,
    parts: 2,
    requests: 4,
  });
});

Deno.test("uploadPlan() keeps within S3's limits: parts from 5 MiB, none over 5 GiB, at most 10,000", () => {
  const big = { multipartThreshold: 5 * GiB, partSize: 5 * GiB };
  assert.deepEqual(uploadPlan(5 * GiB, big), { method: "put", requests: 1 });
  assert.deepEqual(uploadPlan(5 * GiB + 1, big), {
    method: "parts",
    partSize: 5 * GiB,
    parts: 2,
    requests: 4,
  });
  const small = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };
  const plan = uploadPlan(100 * GiB, small);
  assert.equal(plan.method, "parts");
  if (plan.method !== "parts") return;
  assert.ok(plan.parts <= s3UploadLimits.maxParts, `${plan.parts} parts`);
  assert.ok(plan.partSize * plan.parts >= 100 * GiB);
  assert.ok(plan.partSize * (plan.parts - 1) < 100 * GiB);
  assert.deepEqual(uploadPlan(12 * MiB, { multipartThreshold: 1, partSize: 1 }), {
    method: "parts",
    partSize: 5 * MiB,
    parts: 3,
    requests: 5,
  });
  assert.throws(() => uploadPlan(10_000 * 5 * GiB + 1, big), RangeError);
  assert.throws(() => uploadPlan(-1, big), RangeError);
  assert.throws(() => uploadPlan(NaN, big), RangeError);
});
