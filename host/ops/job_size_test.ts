import assert from "node:assert/strict";
import { fargateFit, jobDisk } from "./job_size.ts";
import { jobSpec } from "./job_spec.ts";

const GiB = 2 ** 30;

Deno.test("jobDisk() is the image, the file cache, the index cache, the spool and a restore's staging, with a quarter on top, in whole GiB", () => {
  assert.equal(jobDisk({}).gib, 3); // the image's 2 GiB, and a quarter
  const d = jobDisk({ files: 1e6, blobs: 1e8, spoolBytes: GiB, stagingBytes: 10 * GiB });
  assert.deepEqual(d.parts, {
    image: 2 * GiB,
    fileCache: 512e6,
    index: 128e8,
    spool: GiB,
    staging: 10 * GiB,
  });
  assert.equal(d.gib, Math.ceil((13 * GiB + 512e6 + 128e8) * 1.25 / GiB));
});

Deno.test("fargateFit() asks for ephemeral storage over 20 GiB, and refuses over 200 GiB or a size Fargate does not run", () => {
  assert.deepEqual(fargateFit({ vcpu: 2, memoryGB: 4 }), { fits: true });
  assert.deepEqual(fargateFit({ vcpu: 2, memoryGB: 4, diskGiB: 20 }), { fits: true });
  assert.deepEqual(fargateFit({ vcpu: 2, memoryGB: 4, diskGiB: 21 }), {
    fits: true,
    ephemeralGiB: 21,
  });
  assert.deepEqual(fargateFit({ vcpu: 2, memoryGB: 4, diskGiB: 200 }), {
    fits: true,
    ephemeralGiB: 200,
  });
  const big = fargateFit({ vcpu: 2, memoryGB: 4, diskGiB: 201 });
  assert.equal(big.fits, false);
  assert.match(!big.fits ? big.reason : "", /201 GiB of disk; a Fargate task has at most 200 GiB/);
  assert.equal(fargateFit({ vcpu: 32, memoryGB: 256 }).fits, false);
});

Deno.test("a job whose disk is over 20 GiB asks Fargate for it in its ECS and Batch definitions; over 200 GiB its spec says Fargate does not fit", () => {
  const spec = (kind: "ecs" | "batch", stagingBytes: number) =>
    jobSpec({
      kind,
      argv: ["rebuild", "--yes", "--repo", "s3://my-backups/laptop"],
      disk: { stagingBytes },
      env: (n) => n === "AWS_REGION" ? "eu-west-1" : undefined,
    });
  const small = spec("ecs", 0);
  assert.equal(small.definition.ephemeralStorage, undefined);
  assert.equal(small.size.diskGiB, undefined);
  const ecs = spec("ecs", 100 * GiB);
  assert.deepEqual(ecs.definition.ephemeralStorage, { sizeInGiB: 128 });
  assert.deepEqual(ecs.fargate, { fits: true, ephemeralGiB: 128 });
  const batch = spec("batch", 100 * GiB);
  const props = batch.definition.containerProperties as Record<string, unknown>;
  assert.deepEqual(props.ephemeralStorage, { sizeInGiB: 128 });
  assert.equal(spec("ecs", 300 * GiB).fargate.fits, false);
});
