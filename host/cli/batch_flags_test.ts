import assert from "node:assert/strict";
import type { Storage } from "../storage/storage.ts";
import { batchThaw } from "./batch_flags.ts";
import { Context } from "./context.ts";

const existing = {
  jobId: "job-1",
  account: "123456789012",
  region: "us-east-1",
  manifest: "restore-batches/0123456789ab.csv",
  objects: 2,
  roleArn: "arn:aws:iam::123456789012:role/permafrost-batch-restore",
};
const base = { location: "s3://my-backups/laptop", storage: {} as Storage, tier: "bulk", days: 1 };

Deno.test("restore --resume of a batch job follows the job, and with --no-batch requests the packs one by one instead", () => {
  const follow = batchThaw(new Context([], {}), { ...base, tier: "bulk", existing });
  assert.equal(follow?.record(), existing);
  assert.equal(
    batchThaw(new Context([], { "no-batch": true }), { ...base, tier: "bulk", existing }),
    undefined,
  );
});

Deno.test("a batch restore of a repository not on S3 is refused with the reason", () => {
  const methods = { chosen: "batch" } as Parameters<typeof batchThaw>[1]["methods"];
  assert.throws(
    () =>
      batchThaw(new Context([], { batch: true }), {
        ...base,
        tier: "bulk",
        location: "/srv/backups",
        methods,
      }),
    /needs a repository on S3, not "\/srv\/backups"/,
  );
});
