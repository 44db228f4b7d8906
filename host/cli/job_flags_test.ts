import assert from "node:assert/strict";
import { estimateRebuild } from "../cost/rebuild_cost.ts";
import { shippedPriceTable } from "../cost/price_table.ts";
import { Context, UsageError } from "./context.ts";
import { commandLine, emitJobSpec } from "./job_flags.ts";

const role = "arn:aws:iam::123456789012:role/pf-admin-job";

/** Runs `f` with console.log and console.error captured. */
function captured(f: () => number): { status: number; stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { status: f(), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("--emit-job ecs prints the task definition on stdout and how to run it on stderr", () => {
  const ctx = new Context(["compact"], {
    repo: "s3://my-backups/laptop?region=eu-west-1&profile=admin",
    yes: true,
    "emit-job": "ecs",
    "job-role": role,
  });
  const table = shippedPriceTable("eu-west-1");
  const plan = { storageClass: "DEEP_ARCHIVE" as const, bytes: 2 ** 40, objects: 8192 };
  const { status, stdout, stderr } = captured(() =>
    emitJobSpec(ctx, commandLine("gc", ctx), {
      bytes: 2 ** 40,
      estimateAt: (to) => estimateRebuild({ ...plan, to }, table),
      env: () => undefined,
    })
  );
  assert.equal(status, 0);
  const definition = JSON.parse(stdout);
  assert.equal(definition.family, "permafrost-gc-compact");
  assert.equal(definition.taskRoleArn, role);
  assert.deepEqual(definition.containerDefinitions[0].command, [
    "gc",
    "compact",
    "--yes",
    "--repo",
    "s3://my-backups/laptop?region=eu-west-1",
  ]);
  assert.match(
    stderr,
    /^# permafrost-gc-compact: an ECS Fargate task \(2 vCPU, 4 GB\) in eu-west-1/,
  );
  assert.match(stderr, /# in the region saves \$/);
  assert.match(
    stderr,
    /^aws ecs register-task-definition --region eu-west-1 --cli-input-json file:\/\/permafrost-gc-compact\.json$/m,
  );
  assert.match(
    stderr,
    /^aws ecs run-task --region eu-west-1 --cluster permafrost --launch-type FARGATE/m,
  );
  // the task role was given: its policy is not printed, but the execution role's is (to create)
  assert.doesNotMatch(stderr, /permafrost-admin-job-policy\.json/);
  assert.match(stderr, /^aws iam create-role --role-name permafrost-job-execution /m);
  assert.match(stderr, /"ssm:GetParameters"/);
  assert.doesNotMatch(stderr, /no terminal to confirm/);
});

Deno.test("--emit-job batch --json prints one object with the definition, policies and commands", () => {
  const ctx = new Context(["--read-data"], {
    repo: "s3://my-backups/laptop?region=us-east-1",
    json: true,
    "emit-job": "batch",
  });
  const { stdout } = captured(() =>
    emitJobSpec(ctx, commandLine("check", ctx), { env: () => undefined })
  );
  const out = JSON.parse(stdout);
  assert.equal(out.kind, "batch");
  assert.equal(out.role, "reader");
  assert.equal(out.definition.jobDefinitionName, "permafrost-check");
  assert.deepEqual(out.missing, { taskRole: true, executionRole: true, image: true });
  assert.ok(out.commands.includes(
    "aws batch submit-job --region us-east-1 --job-name permafrost-check --job-queue permafrost --job-definition permafrost-check",
  ));
  assert.ok(out.notes.some((n: string) => n.includes("no terminal to confirm at: add --yes")));
  assert.ok(
    out.notes.some((n: string) =>
      n.includes("ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com/permafrost:0.1.0") &&
      n.includes("Dockerfile")
    ),
  );
});

Deno.test("the job's source and secret come from the environment", () => {
  const ctx = new Context([], { repo: "s3://my-backups", "emit-job": "ecs", yes: true });
  const env: Record<string, string> = {
    AWS_REGION: "us-west-2",
    PERMAFROST_JOB_SOURCE: "https://codeload.github.com/o/permafrost/tar.gz/0123abc",
    PERMAFROST_JOB_SOURCE_SHA256: "a".repeat(64),
    PERMAFROST_JOB_PASSWORD_SECRET: "/backups/pass",
    PERMAFROST_JOB_EXECUTION_ROLE: "arn:aws:iam::123456789012:role/exec",
  };
  const { stdout, stderr } = captured(() =>
    emitJobSpec(ctx, commandLine("rebuild", ctx), { env: (n) => env[n] })
  );
  const c = JSON.parse(stdout).containerDefinitions[0];
  assert.deepEqual(c.environment, [
    { name: "AWS_REGION", value: "us-west-2" },
    { name: "PERMAFROST_SOURCE_URL", value: env.PERMAFROST_JOB_SOURCE },
    { name: "PERMAFROST_SOURCE_SHA256", value: "a".repeat(64) },
  ]);
  assert.deepEqual(c.secrets, [{ name: "PERMAFROST_PASSWORD", valueFrom: "/backups/pass" }]);
  assert.doesNotMatch(stderr, /PERMAFROST_JOB_SOURCE/);
  assert.match(stderr, /^aws iam create-role --role-name permafrost-admin-job /m);
});

Deno.test("a wrong kind or a local repository is a usage error", () => {
  const wrongKind = new Context([], { repo: "s3://my-backups", "emit-job": "k8s" });
  assert.throws(() => emitJobSpec(wrongKind, ["gc", "compact"]), UsageError);
  const local = new Context([], { repo: "/backups/repo", "emit-job": "ecs" });
  assert.throws(
    () => emitJobSpec(local, commandLine("rebuild", local), { env: () => undefined }),
    (e: Error) => e instanceof UsageError && /needs a repository on S3/.test(e.message),
  );
});

Deno.test("commandLine() rebuilds the command from the context's positionals and flags", () => {
  const ctx = new Context(["compact", "x"], {
    repo: "s3://b-1",
    yes: true,
    json: false,
    tag: ["a", "b"],
    horizon: "24",
  });
  assert.deepEqual(commandLine("gc", ctx), [
    "gc",
    "compact",
    "x",
    "--repo",
    "s3://b-1",
    "--yes",
    "--tag",
    "a",
    "--tag",
    "b",
    "--horizon",
    "24",
  ]);
});
