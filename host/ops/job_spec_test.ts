import assert from "node:assert/strict";
import { estimateRebuild } from "../cost/rebuild_cost.ts";
import { shippedPriceTable } from "../cost/price_table.ts";
import { identityPolicy } from "../s3/policy.ts";
import { homeVsRegion } from "./home_vs_region.ts";
import { jobArgv } from "./job_argv.ts";
import { sourceScript } from "./job_definition.ts";
import { checkFargateSize, jobSize } from "./job_size.ts";
import { jobSpec } from "./job_spec.ts";

const noEnv = () => undefined;
const TiB = 2 ** 40;
const role = "arn:aws:iam::123456789012:role/pf-admin-job";
const compact = ["gc", "compact", "--repo", "s3://my-backups/laptop?region=eu-west-1", "--yes"];

type Container = {
  image: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
};

Deno.test("an ECS spec for gc compact is a Fargate task with the admin role and the passphrase as a secret", () => {
  const spec = jobSpec({ kind: "ecs", argv: compact, taskRoleArn: role, bytes: TiB, env: noEnv });
  const d = spec.definition;
  assert.equal(d.family, "permafrost-gc-compact");
  assert.deepEqual(d.requiresCompatibilities, ["FARGATE"]);
  assert.equal(d.networkMode, "awsvpc");
  assert.deepEqual([d.cpu, d.memory], ["2048", "4096"]); // 1 TiB: 2 vCPU, 4 GB
  assert.equal(d.taskRoleArn, role);
  // the execution role is named in the same account, for the user to create
  assert.equal(d.executionRoleArn, "arn:aws:iam::123456789012:role/permafrost-job-execution");
  assert.deepEqual(spec.missing, { taskRole: false, executionRole: true, image: true });
  const c = (d.containerDefinitions as Container[])[0];
  // no image given: the repository's Dockerfile's, in ECR in the job's account and region
  assert.equal(c.image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/permafrost:0.1.0");
  assert.deepEqual(c.command, [
    "gc",
    "compact",
    "--yes",
    "--repo",
    "s3://my-backups/laptop?region=eu-west-1",
  ]);
  assert.deepEqual(c.secrets, [{ name: "PERMAFROST_PASSWORD", valueFrom: "/permafrost/password" }]);
  assert.ok(!c.environment.some((e) => e.name === "PERMAFROST_PASSWORD"));
  assert.deepEqual(c.environment[0], { name: "AWS_REGION", value: "eu-west-1" });
  // the task role's policy is the repository's admin policy on the bucket and prefix
  assert.equal(spec.role, "admin");
  assert.deepEqual(spec.taskPolicy, identityPolicy("admin", "my-backups", "laptop"));
  assert.deepEqual(spec.trustPolicy.Statement[0].Principal, {
    Service: "ecs-tasks.amazonaws.com",
  });
  // the execution role reads the parameter in the job's region and account, and writes logs
  assert.deepEqual(
    spec.executionPolicy.Statement.map((s) => [s.Action, s.Resource]),
    [
      [
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        ["arn:aws:logs:eu-west-1:123456789012:log-group:/permafrost/jobs:*"],
      ],
      [
        ["ssm:GetParameters"],
        ["arn:aws:ssm:eu-west-1:123456789012:parameter/permafrost/password"],
      ],
      [["ecr:GetAuthorizationToken"], ["*"]],
      [
        ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        ["arn:aws:ecr:eu-west-1:123456789012:repository/permafrost"],
      ],
    ],
  );
});

Deno.test("a Batch spec carries the same job as a Fargate job definition", () => {
  const spec = jobSpec({
    kind: "batch",
    argv: ["check", "--read-data", "--repo", "s3://my-backups/laptop", "--yes"],
    taskRoleArn: "arn:aws:iam::123456789012:role/pf-reader-job",
    executionRoleArn: "arn:aws:iam::123456789012:role/pf-exec",
    passwordSecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:pf-pass-AbCdEf",
    image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/permafrost:0.1.0",
    bytes: 2 * TiB,
    env: (name) => name === "AWS_REGION" ? "us-east-1" : undefined,
  });
  const d = spec.definition;
  assert.equal(d.jobDefinitionName, "permafrost-check");
  assert.deepEqual(d.platformCapabilities, ["FARGATE"]);
  const p = d.containerProperties as Container & Record<string, unknown>;
  // a built image runs the command line itself
  assert.deepEqual(p.command, [
    "check",
    "--read-data",
    "--yes",
    "--repo",
    "s3://my-backups/laptop?region=us-east-1",
  ]);
  assert.equal(p.jobRoleArn, "arn:aws:iam::123456789012:role/pf-reader-job");
  assert.equal(p.executionRoleArn, "arn:aws:iam::123456789012:role/pf-exec");
  assert.deepEqual(p.resourceRequirements, [
    { type: "VCPU", value: "4" },
    { type: "MEMORY", value: "8192" },
  ]);
  assert.deepEqual(p.networkConfiguration, { assignPublicIp: "ENABLED" });
  assert.deepEqual(p.secrets, [{
    name: "PERMAFROST_PASSWORD",
    valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:pf-pass-AbCdEf",
  }]);
  assert.deepEqual(spec.missing, { taskRole: false, executionRole: false, image: false });
  assert.equal(spec.role, "reader");
  assert.deepEqual(spec.taskPolicy, identityPolicy("reader", "my-backups", "laptop"));
  // Secrets Manager, and ECR pulls for an image in ECR
  assert.deepEqual(spec.executionPolicy.Statement.slice(1).map((s) => s.Action), [
    ["secretsmanager:GetSecretValue"],
    ["ecr:GetAuthorizationToken"],
    ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
  ]);
  assert.deepEqual(spec.executionPolicy.Statement[3].Resource, [
    "arn:aws:ecr:us-east-1:123456789012:repository/permafrost",
  ]);
});

Deno.test("the job's command line drops the emitting flags and the profile, and keeps the region", () => {
  const { argv, target } = jobArgv(
    [
      "rebuild",
      "--emit-job",
      "ecs",
      "--image=x",
      "--job-role",
      role,
      "--repo=s3://b-1/p?profile=admin&region=us-west-2",
      "--yes",
    ],
    undefined,
    noEnv,
  );
  assert.deepEqual(argv, ["rebuild", "--yes", "--repo", "s3://b-1/p?region=us-west-2"]);
  assert.equal(target.region, "us-west-2");
  // the repository may come from the context (PERMAFROST_REPO), the region from AWS_REGION
  assert.deepEqual(
    jobArgv(["gc", "compact"], "s3://b-1", (n) => n === "AWS_REGION" ? "eu-central-1" : undefined)
      .argv,
    ["gc", "compact", "--repo", "s3://b-1?region=eu-central-1"],
  );
});

Deno.test("a job refuses what cannot work in its container", () => {
  const refuses = (argv: string[], repo: string | undefined, pattern: RegExp) =>
    assert.throws(() => jobArgv(argv, repo, noEnv), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, pattern);
      return true;
    });
  refuses(["backup", "/home"], "s3://b-1/p", /"backup" cannot run as an in-region job/);
  refuses(["gc", "compact"], "/backups/repo", /needs a repository on S3/);
  refuses(["gc", "compact"], undefined, /needs a repository on S3.*not none/);
  refuses(["gc", "compact", "--key-file", "k"], "s3://b-1", /cannot use --key-file/);
  refuses(["gc", "compact"], "s3://b-1?endpoint=http://localhost:9000", /leave "endpoint=" out/);
  assert.throws(
    () => jobSpec({ kind: "ecs", argv: compact, passwordSecret: "not a secret!", env: noEnv }),
    /neither an SSM parameter/,
  );
  assert.throws(
    () =>
      jobSpec({
        kind: "ecs",
        argv: compact,
        taskRoleArn: "arn:aws:iam::123456789012:user/x",
        env: noEnv,
      }),
    /must be an IAM role ARN/,
  );
});

Deno.test("tasks grow with the bytes to process, in sizes Fargate runs", () => {
  assert.deepEqual(jobSize(0), { vcpu: 2, memoryGB: 4 });
  assert.deepEqual(jobSize(TiB), { vcpu: 2, memoryGB: 4 });
  assert.deepEqual(jobSize(TiB + 1), { vcpu: 4, memoryGB: 8 });
  assert.deepEqual(jobSize(16 * TiB), { vcpu: 4, memoryGB: 8 });
  assert.deepEqual(jobSize(100 * TiB), { vcpu: 8, memoryGB: 16 });
  for (const bytes of [0, 2 * TiB, 100 * TiB]) checkFargateSize(jobSize(bytes));
  assert.throws(() => checkFargateSize({ vcpu: 3, memoryGB: 6 }), RangeError);
  assert.throws(() => checkFargateSize({ vcpu: 8, memoryGB: 18 }), RangeError); // 4 GB steps
  assert.throws(
    () => jobSpec({ kind: "ecs", argv: compact, size: { vcpu: 2, memoryGB: 1 }, env: noEnv }),
    RangeError,
  );
});

Deno.test("the default image's script runs the pinned source and refuses a changed tarball", {
  permissions: { run: true, read: true, write: true, env: true },
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    // a tarball with one top folder, like GitHub's archive of a commit
    await Deno.mkdir(`${dir}/pf-1234/host/cli`, { recursive: true });
    await Deno.writeTextFile(`${dir}/pf-1234/deno.json`, "{}");
    await Deno.writeTextFile(
      `${dir}/pf-1234/host/cli/main.ts`,
      'console.log(JSON.stringify([Deno.args, Deno.env.get("PERMAFROST_PASSWORD")]));',
    );
    const tar = await new Deno.Command("tar", { args: ["-czf", "src.tgz", "pf-1234"], cwd: dir })
      .output();
    assert.equal(tar.code, 0);
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/src.tgz`));
    const sha = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    const deno = Deno.execPath();
    const run = (sha256: string) =>
      new Deno.Command("sh", {
        args: ["-c", sourceScript, "permafrost", "gc", "compact", "--yes"],
        clearEnv: true,
        env: {
          PATH: `${deno.slice(0, deno.lastIndexOf("/"))}:/usr/bin:/bin`,
          HOME: dir,
          TMPDIR: dir,
          DENO_DIR: Deno.env.get("DENO_DIR") ?? `${dir}/deno`,
          PERMAFROST_SOURCE_URL: `file://${dir}/src.tgz`,
          PERMAFROST_SOURCE_SHA256: sha256,
          PERMAFROST_PASSWORD: "from the secret",
        },
      }).output();
    const ok = await run(sha);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(ok.stdout)), [
      ["gc", "compact", "--yes"],
      "from the secret",
    ]);
    const changed = await run("0".repeat(64));
    assert.notEqual(changed.code, 0);
    assert.equal(new TextDecoder().decode(changed.stdout).includes("from the secret"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("home against region: a 1 TiB rebuild costs $88.28 at home and $5.36 in the region", () => {
  const table = shippedPriceTable("us-east-1");
  const plan = { storageClass: "DEEP_ARCHIVE" as const, bytes: TiB, objects: 8192 };
  // docs/cost-model.md §7: $88.283277 at home, $5.364534 in the region; saves $82.918743 (94%)
  const c = homeVsRegion((to) => estimateRebuild({ ...plan, to }, table));
  assert.equal(c.home.total_usd, 88.283277);
  assert.equal(c.region.total_usd, 5.364534);
  assert.deepEqual(c.lines, [
    "at home (internet egress):  $88.28, 2.4 to 72.4 hours",
    "in us-east-1 (Fargate job): $5.36, 0.5 to 50.4 hours",
    "in the region saves $82.92 (94%)",
  ]);
});
