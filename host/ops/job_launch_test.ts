/**
 * Launching an in-region job against moto's ECS (test/rig/moto.ts): the task definition ECS
 * registers is the job spec's, RunTask gets the Fargate launch, the network and the command
 * override, and the launcher follows the task through moto's statuses to STOPPED and reports
 * the container's exit code and the task's Fargate cost. moto's tasks do not run: its container
 * exit code is always 0 and no log is written (docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CreateClusterCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from "@aws-sdk/client-ecs";
import { defaultSubnet, moduleMoto, MOTO_KEYS } from "../../test/support/moto_s3.ts";
import { shippedPriceTable } from "../cost/price_table.ts";
import { launchJob } from "./job_launch.ts";
import { taskLog, taskLogStream } from "./job_log.ts";
import { jobLogGroup } from "./job_definition.ts";
import { jobSpec } from "./job_spec.ts";

const moto = await moduleMoto();

const region = "eu-west-1";
const ecs = new ECSClient({ region, endpoint: moto.endpoint, credentials: MOTO_KEYS });

const role = "arn:aws:iam::123456789012:role/permafrost-admin-job";

Deno.test("--in-region registers the job's task definition, runs it on Fargate with the network and command, and follows it to STOPPED with its exit code and cost", async () => {
  const cluster = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const subnet = await defaultSubnet(moto, region);
  const spec = jobSpec({
    kind: "ecs",
    argv: ["gc", "compact", "--yes", "--in-region", "--repo", "s3://my-backups/laptop"],
    taskRoleArn: role,
    bytes: 2 ** 40,
    env: (n) => n === "AWS_REGION" ? region : undefined,
  });
  assert.ok(!spec.argv.includes("--in-region"), "the job does not launch itself");

  // The launcher's clock: ten minutes pass between two descriptions.
  let t = Date.parse("2026-12-07T10:00:00Z");
  const seen: string[] = [];
  const outcome = await launchJob(ecs, spec, {
    cluster,
    subnets: [subnet],
    securityGroups: ["sg-0123456789abcdef0"],
    publicIp: true,
  }, {
    table: shippedPriceTable(region),
    intervalSeconds: 600,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
    now: () => new Date(t),
    onStatus: (s) => seen.push(s),
  });

  // moto starts a task RUNNING and moves it one status per DescribeTasks, the first included.
  assert.deepEqual(outcome.statuses, ["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);
  assert.deepEqual(seen, outcome.statuses);
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.seconds, 3 * 600);
  // 2 vCPU and 4 GB for 30 minutes at eu-west-1's shipped prices
  assert.deepEqual(outcome.items.map((i) => [i.what, i.quantity, i.usd]), [
    ["Fargate task, 2 vCPU", 1, 0.04048],
    ["Fargate task, 4 GB memory", 2, 0.00889],
  ]);
  assert.equal(outcome.usd, 0.04937);

  const registered = (await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: outcome.taskDefinitionArn }),
  )).taskDefinition!;
  const d = spec.definition as Record<string, unknown>;
  assert.equal(registered.family, d.family);
  assert.equal(registered.taskRoleArn, role);
  assert.equal(registered.cpu, d.cpu);
  assert.equal(registered.memory, d.memory);
  assert.deepEqual(registered.requiresCompatibilities, ["FARGATE"]);
  const want = (d.containerDefinitions as Record<string, unknown>[])[0];
  const got = registered.containerDefinitions![0];
  assert.equal(got.image, want.image);
  assert.deepEqual(got.command, want.command);
  assert.deepEqual(got.secrets, want.secrets);

  const [task] = (await ecs.send(
    new DescribeTasksCommand({ cluster, tasks: [outcome.taskArn] }),
  )).tasks!;
  assert.equal(task.launchType, "FARGATE");
  assert.equal(task.startedBy, "permafrost");
  assert.deepEqual(task.overrides?.containerOverrides, [
    { name: "permafrost", command: [...(want.command as string[]), "--json"] },
  ]);
  const listed = await ecs.send(new ListTasksCommand({ cluster, desiredStatus: "STOPPED" }));
  assert.ok(listed.taskArns !== undefined);
});

Deno.test("--in-region refuses a Batch spec, and a cluster ECS does not know", async () => {
  const options = (kind: "ecs" | "batch") =>
    jobSpec({
      kind,
      argv: ["rebuild", "--yes", "--repo", "s3://my-backups/laptop"],
      taskRoleArn: role,
      env: (n) => n === "AWS_REGION" ? region : undefined,
    });
  const network = {
    cluster: "nowhere",
    subnets: ["subnet-1"],
    securityGroups: [],
    publicIp: false,
  };
  const o = { table: shippedPriceTable(region), intervalSeconds: 1 };
  await assert.rejects(() => launchJob(ecs, options("batch"), network, o), TypeError);
  await assert.rejects(() => launchJob(ecs, options("ecs"), network, o), /Cluster not found/i);
});

/** An ECS client that answers RegisterTaskDefinition and RunTask, then `describe` in turn. */
function scriptedEcs(describe: unknown[]) {
  const sent: string[] = [];
  const client = {
    send: (command: { constructor: { name: string } }) => {
      const name = command.constructor.name;
      sent.push(name);
      if (name === "RegisterTaskDefinitionCommand") {
        return Promise.resolve({ taskDefinition: { taskDefinitionArn: "arn:td/1" } });
      }
      if (name === "RunTaskCommand") return Promise.resolve({ tasks: [{ taskArn: "arn:task/7" }] });
      const next = describe.shift();
      return next === undefined
        ? Promise.reject(new Error("described too often"))
        : Promise.resolve(next);
    },
  } as unknown as ECSClient;
  return { client, sent };
}

function ecsSpec() {
  return jobSpec({
    kind: "ecs",
    argv: ["gc", "compact", "--yes", "--in-region", "--repo", "s3://my-backups/laptop"],
    taskRoleArn: role,
    bytes: 2 ** 30,
    env: (n) => n === "AWS_REGION" ? region : undefined,
  });
}

Deno.test("a launched task ECS no longer knows ends the follow-up with an error naming the task, instead of polling forever", async () => {
  const { client } = scriptedEcs([
    { tasks: [{ lastStatus: "RUNNING" }] },
    { tasks: [], failures: [{ arn: "arn:task/7", reason: "MISSING" }] },
  ]);
  const started: string[] = [];
  await assert.rejects(
    () =>
      launchJob(client, ecsSpec(), {
        cluster: "c",
        subnets: ["s"],
        securityGroups: [],
        publicIp: false,
      }, {
        table: shippedPriceTable(region),
        intervalSeconds: 1,
        sleep: () => Promise.resolve(),
        onStarted: (arn) => started.push(arn),
      }),
    /arn:task\/7.*MISSING/,
  );
  assert.deepEqual(started, ["arn:task/7"], "the task's ARN is told as soon as it runs");
});

Deno.test("the launcher reads the task's log stream while it runs, telling its latest progress record and, after STOPPED, its result document", async () => {
  // moto's ECS runs no container: the test writes what the awslogs driver would, into the
  // stream the task's definition names, between the launcher's descriptions.
  const {
    CloudWatchLogsClient,
    CreateLogGroupCommand,
    CreateLogStreamCommand,
    PutLogEventsCommand,
  } = await import("@aws-sdk/client-cloudwatch-logs");
  const logs = new CloudWatchLogsClient({
    region,
    endpoint: moto.endpoint,
    credentials: MOTO_KEYS,
  });
  const cluster = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const spec = ecsSpec();
  const options = (spec.definition.containerDefinitions as { logConfiguration: unknown }[])[0]
    .logConfiguration as { options: Record<string, string> };
  assert.equal(options.options["awslogs-group"], jobLogGroup);
  assert.equal(options.options["awslogs-stream-prefix"], spec.name);

  const progress = (bytes: number, final: boolean) =>
    JSON.stringify({
      type: "progress",
      phase: "restore",
      files_done: bytes / 1024,
      files_total: 4096,
      bytes_done: bytes,
      bytes_total: 4 * 2 ** 20,
      errors: 0,
      elapsed_s: 10,
      current: null,
      final,
    });
  let taskArn = "";
  let t = 0;
  const writes = [
    async () => {
      const stream = taskLogStream(spec.name, taskArn);
      await logs.send(new CreateLogGroupCommand({ logGroupName: jobLogGroup })).catch(() => {});
      await logs.send(
        new CreateLogStreamCommand({ logGroupName: jobLogGroup, logStreamName: stream }),
      );
      await put(stream, [progress(2 ** 20, false), "warning: a pack was read twice"]);
    },
    async () => {
      const stream = taskLogStream(spec.name, taskArn);
      await put(stream, [
        progress(4 * 2 ** 20, true),
        ...JSON.stringify({ packs_written: 3, bytes_freed: 1048576 }, null, 2).split("\n"),
      ]);
    },
  ];
  async function put(stream: string, messages: string[]) {
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: jobLogGroup,
        logStreamName: stream,
        logEvents: messages.map((message) => ({ timestamp: Date.now() + t++, message })),
      }),
    );
  }
  const told: string[] = [];
  const outcome = await launchJob(ecs, spec, {
    cluster,
    subnets: [await defaultSubnet(moto, region)],
    securityGroups: [],
    publicIp: false,
  }, {
    table: shippedPriceTable(region),
    intervalSeconds: 1,
    onStarted: (arn) => taskArn = arn,
    log: (arn) => taskLog(logs, taskLogStream(spec.name, arn)),
    onLog: (s) => told.push(`${s.progress?.bytes_done} ${s.result ? "result" : "-"}`),
    sleep: () => (writes.shift() ?? (() => Promise.resolve()))(),
  });

  // The first description finds no stream yet; then one progress record, then the last with the
  // result document (indented by --json: one event per line), each told once; the warning line
  // is not a record.
  assert.deepEqual(told, [`${2 ** 20} -`, `${4 * 2 ** 20} result`]);
  assert.equal(outcome.log.progress?.final, true);
  assert.deepEqual(outcome.log.result, { packs_written: 3, bytes_freed: 1048576 });
  logs.destroy();
});

Deno.test("a log the launcher may not read is told once, and the task is still followed to its end", async () => {
  const { client } = scriptedEcs([
    { tasks: [{ lastStatus: "RUNNING" }] },
    { tasks: [{ lastStatus: "STOPPED", containers: [{ name: "permafrost", exitCode: 3 }] }] },
  ]);
  const errors: unknown[] = [];
  let reads = 0;
  const outcome = await launchJob(client, ecsSpec(), {
    cluster: "c",
    subnets: ["s"],
    securityGroups: [],
    publicIp: false,
  }, {
    table: shippedPriceTable(region),
    intervalSeconds: 1,
    sleep: () => Promise.resolve(),
    log: () => () => {
      reads++;
      return Promise.reject(new Error("AccessDenied: logs:GetLogEvents"));
    },
    onLogError: (e) => errors.push(e),
  });
  assert.equal(outcome.exitCode, 3);
  assert.equal(reads, 1);
  assert.equal(errors.length, 1);
  assert.deepEqual(outcome.log, {});
});

Deno.test("a task that asked for more than 20 GiB of ephemeral storage is billed for what is over 20, beside its compute", async () => {
  const { client } = scriptedEcs([
    { tasks: [{ lastStatus: "STOPPED", containers: [{ name: "permafrost", exitCode: 0 }] }] },
  ]);
  const spec = jobSpec({
    kind: "ecs",
    argv: ["rebuild", "--yes", "--repo", "s3://my-backups/laptop"],
    taskRoleArn: role,
    disk: { stagingBytes: 100 * 2 ** 30 },
    env: (n) => n === "AWS_REGION" ? region : undefined,
  });
  let t = 0;
  const outcome = await launchJob(client, spec, {
    cluster: "c",
    subnets: ["s"],
    securityGroups: [],
    publicIp: false,
  }, {
    table: shippedPriceTable(region),
    intervalSeconds: 1,
    now: () => new Date((t += 1800) * 1000), // launch, then STOPPED half an hour later
  });
  assert.equal(outcome.seconds, 1800);
  assert.deepEqual(outcome.items.at(-1), {
    what: "Fargate ephemeral storage, 108 GiB over 20",
    quantity: 54,
    unit: "GB-hour",
    unit_usd: 0.000111,
    usd: 0.005994,
  });
});
