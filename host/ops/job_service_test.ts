import assert from "node:assert/strict";
import { GATEWAY_PORT, serviceSpec } from "./job_service.ts";

const env = (n: string) => n === "AWS_REGION" ? "eu-west-1" : undefined;

Deno.test("the gateway service runs `gateway` on its port with the ingest policy and its keys from two secrets", () => {
  const spec = serviceSpec({ service: "gateway", repo: "s3://my-backups/laptop", env });
  assert.deepEqual(spec.argv, [
    "gateway",
    "--repo",
    "s3://my-backups/laptop?region=eu-west-1",
    "--listen",
    `0.0.0.0:${GATEWAY_PORT}`,
  ]);
  assert.equal(spec.taskRole, "ingest");
  const [c] = spec.taskDefinition.containerDefinitions as Record<string, unknown>[];
  assert.deepEqual(c.portMappings, [{ containerPort: GATEWAY_PORT, protocol: "tcp" }]);
  assert.deepEqual(
    (c.secrets as { name: string }[]).map((s) => s.name),
    ["PERMAFROST_GATEWAY_KEYS", "PERMAFROST_GATEWAY_SEAL_KEY"],
  );
  const sids = spec.executionPolicy.Statement.map((s) => s.Sid);
  assert.equal(new Set(sids).size, sids.length, "Sids must be unique");
  assert.ok(!JSON.stringify(spec.taskPolicy).includes("s3:DeleteObject"));
  assert.equal(spec.launch.desiredCount, 1);
});

Deno.test("the guard is an hourly scheduled task with the versioned admin policy and no passphrase", () => {
  const spec = serviceSpec({ service: "guard", repo: "s3://my-backups/laptop", env });
  assert.deepEqual(spec.argv, ["guard", "--repo", "s3://my-backups/laptop?region=eu-west-1"]);
  assert.equal(spec.launch.ScheduleExpression, "rate(1 hour)");
  const [c] = spec.taskDefinition.containerDefinitions as Record<string, unknown>[];
  assert.deepEqual(c.secrets, []);
  const policy = JSON.stringify(spec.taskPolicy);
  assert.ok(policy.includes("s3:ListBucketVersions") && policy.includes("s3:DeleteObjectVersion"));
  assert.ok(!JSON.stringify(spec.executionPolicy).includes("unused"));
  assert.throws(
    () => serviceSpec({ service: "guard", repo: "/srv/backup", env }),
    TypeError,
  );
});
