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
import { CreateClusterCommand, ECSClient, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { defaultSubnet, MOTO_KEYS, motoS3 } from "./support/moto_s3.ts";

const { moto, newBucket } = await motoS3();
const ecs = new ECSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: MOTO_KEYS });

Deno.test("rebuild --in-region launches its task, follows it to STOPPED and exits with its exit code and cost; without a subnet, or over --budget, it is refused", async () => {
  const { env: bucketEnv } = await newBucket("laptop");
  const cluster = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const env = {
    ...bucketEnv,
    PERMAFROST_ECS_ENDPOINT: moto.endpoint,
    PERMAFROST_LOGS_ENDPOINT: moto.endpoint,
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
  const subnet = await defaultSubnet(moto);

  // Priced before anything is registered: over --budget, nothing is launched.
  const network = ["--cluster", cluster, "--subnet", subnet, "--public-ip", "--poll", "1"];
  const over = await cli(
    ["rebuild", "--yes", "--in-region", ...role, ...network, "--budget", "0.0000001"],
    env,
  );
  assert.notEqual(over.code, 0, over.stderr);
  assert.match(over.stderr, /this job in the region would cost about .* over the budget/);
  assert.match(over.stderr, /at home \(internet egress\):/);
  const none = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: "permafrost-rebuild" }),
  );
  assert.equal(none.taskDefinitionArns?.length ?? 0, 0);

  const r = await cli([
    "rebuild",
    "--yes",
    "--in-region",
    ...role,
    "--cluster",
    cluster,
    "--subnet",
    subnet,
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
  // moto's task writes no log: the launcher read its stream, found none, and says so.
  assert.match(r.stdout, /its log held no result document/);
  assert.doesNotMatch(r.stderr, /reading the task's log failed/);
  assert.match(r.stdout, /Fargate \$[0-9.]+ \(estimated: compute \$[0-9.]+, the whole job/);
  const defs = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: "permafrost-rebuild" }),
  );
  assert.equal(defs.taskDefinitionArns?.length, 1);
});
