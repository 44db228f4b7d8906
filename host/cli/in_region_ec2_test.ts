import assert from "node:assert/strict";
import { jobSpec } from "../ops/job_spec.ts";
import { UsageError } from "./context.ts";
import { runsOnEc2 } from "./in_region_ec2.ts";

const spec = (stagingBytes: number) =>
  jobSpec({
    kind: "ecs",
    argv: ["rebuild", "--yes", "--repo", "s3://my-backups/laptop"],
    disk: { stagingBytes },
    env: (n) => n === "AWS_REGION" ? "eu-west-1" : undefined,
  });

Deno.test("--launch auto takes Fargate when the job fits it and EC2 when not; fargate refuses a job it does not fit; ec2 always takes EC2", () => {
  const fits = spec(0), big = spec(300 * 2 ** 30);
  assert.equal(runsOnEc2(fits, "auto"), false);
  assert.equal(runsOnEc2(big, "auto"), true);
  assert.equal(runsOnEc2(fits, "ec2"), true);
  assert.equal(runsOnEc2(fits, "fargate"), false);
  assert.throws(
    () => runsOnEc2(big, "fargate"),
    (e) =>
      e instanceof UsageError &&
      /Fargate cannot run "permafrost-rebuild": the job needs 378 GiB of disk/.test(e.message),
  );
});
