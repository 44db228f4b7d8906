/**
 * `rebuild --in-region` through the CLI against moto (S3 and ECS, test/rig/moto.ts): the
 * command plans, launches its task in the cluster and subnet given, prints each status until
 * STOPPED, and exits with the task's exit code, reporting its Fargate cost against the
 * estimate. moto's tasks do not run (exit code always 0, no log): what the container does is
 * not shown here (docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateClusterCommand, ECSClient, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { awsEnv, cli, randomBytes, tempDir } from "./helpers.ts";
import { startMoto } from "./rig/moto.ts";

const moto = await startMoto();
addEventListener("unload", () => moto.kill());

const keys = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: moto.endpoint,
  forcePathStyle: true,
  credentials: keys,
});
const ecs = new ECSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: keys });

async function defaultSubnet(): Promise<string> {
  const r = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=permafrost-test/20261207/us-east-1/ec2/" +
        "aws4_request, SignedHeaders=host, Signature=0",
    },
    body: "Action=DescribeSubnets&Version=2016-11-15",
  });
  return /<subnetId>(subnet-[0-9a-f]+)<\/subnetId>/.exec(await r.text())![1];
}

Deno.test("rebuild --in-region launches its task, follows it to STOPPED and exits with its exit code and cost; without a subnet it is refused", async () => {
  const bucket = `pf-region-${crypto.randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const cluster = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const env = {
    ...await awsEnv(moto.endpoint),
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    PERMAFROST_REPO: `s3://${bucket}/laptop`,
    PERMAFROST_ECS_ENDPOINT: moto.endpoint,
    PERMAFROST_JOB_EXECUTION_ROLE: "arn:aws:iam::123456789012:role/pf-exec",
  };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env)).code, 0);
  const src = await tempDir();
  fs.writeFileSync(join(src, "f"), randomBytes(300_000, 7));
  assert.equal((await cli(["backup", src], env)).code, 0);

  const role = ["--job-role", "arn:aws:iam::123456789012:role/permafrost-admin-job"];
  const noSubnet = await cli(["rebuild", "--yes", "--in-region", ...role], env);
  assert.equal(noSubnet.code, 2, noSubnet.stderr);
  assert.match(noSubnet.stderr, /--subnet ID/);

  const r = await cli([
    "rebuild",
    "--yes",
    "--in-region",
    ...role,
    "--cluster",
    cluster,
    "--subnet",
    await defaultSubnet(),
    "--public-ip",
    "--poll",
    "1",
  ], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /launching permafrost-rebuild \(2 vCPU, 4 GB\) in us-east-1/);
  assert.match(
    r.stderr,
    /task DEACTIVATING\n.*task STOPPING\n.*task DEPROVISIONING\n.*task STOPPED/,
  );
  assert.match(r.stdout, /stopped: exit code 0/);
  assert.match(r.stdout, /Fargate \$[0-9.]+ \(estimated: compute \$[0-9.]+, the whole job/);
  const defs = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: "permafrost-rebuild" }),
  );
  assert.equal(defs.taskDefinitionArns?.length, 1);
});
