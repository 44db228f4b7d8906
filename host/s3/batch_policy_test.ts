import assert from "node:assert/strict";
import { batchRestorePolicies } from "./batch_policy.ts";

const ROLE = "arn:aws:iam::123456789012:role/permafrost-batch-restore";

Deno.test("a batch restore's starter may create manifests only with If-None-Match, create and read jobs in the role's account, and pass that role alone", () => {
  const p = batchRestorePolicies("my-backups", "laptop", ROLE);
  const [put, jobs, pass] = p.starter.Statement;
  assert.deepEqual(put.Resource, ["arn:aws:s3:::my-backups/laptop/restore-batches/*"]);
  assert.deepEqual(put.Condition, { Null: { "s3:if-none-match": "false" } });
  assert.deepEqual(jobs.Action, ["s3:CreateJob", "s3:DescribeJob"]);
  assert.deepEqual(jobs.Resource, ["arn:aws:s3:*:123456789012:job/*"]);
  assert.deepEqual(pass.Resource, [ROLE]);
});

Deno.test("the batch role reads the manifests and restores packs, nothing else; S3 Batch Operations assumes it", () => {
  const p = batchRestorePolicies("my-backups", "", ROLE);
  assert.deepEqual(p.batchRole.Statement.flatMap((s) => s.Action), [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:RestoreObject",
  ]);
  assert.deepEqual(p.batchRole.Statement[1].Resource, ["arn:aws:s3:::my-backups/packs/*"]);
  assert.equal(p.trust.Statement[0].Principal.Service, "batchoperations.s3.amazonaws.com");
  assert.throws(() => batchRestorePolicies("my-backups", "", "arn:aws:iam::1:user/x"), TypeError);
});
