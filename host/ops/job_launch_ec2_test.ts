/**
 * Launching an in-region job on EC2 against moto's EC2 and CloudWatch Logs (test/rig/moto.ts):
 * RunInstances' arguments are read back (type, root volume, shutdown behaviour, instance
 * profile, AMI parameter, IMDS options), the user data is decoded and checked for the command,
 * and the launcher follows the instance to `terminated` and its log to the exit line. moto runs
 * no user data: the test writes what the `awslogs` driver and the script would into the stream,
 * and terminates the instance as its own shutdown would (docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { moduleMoto, MOTO_KEYS } from "../../test/support/moto_s3.ts";
import { chooseInstance, ec2Prices } from "../cost/ec2_job.ts";
import { jobLogGroup } from "./job_definition.ts";
import {
  AL2023_IMAGE,
  launchEc2Job,
  rootVolumeGiB,
  shellWord,
  userData,
} from "./job_launch_ec2.ts";
import { taskLog, taskLogStream } from "./job_log.ts";
import { jobSpec } from "./job_spec.ts";

const moto = await moduleMoto();
const region = "eu-west-1";
const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: MOTO_KEYS });
const logs = new CloudWatchLogsClient({ region, endpoint: moto.endpoint, credentials: MOTO_KEYS });
const GiB = 2 ** 30;

/** An instance profile in moto's IAM (through IAM's query API: no IAM client is needed). */
async function instanceProfile(name: string): Promise<void> {
  const r = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=permafrost-test/20261207/us-east-1/iam/" +
        "aws4_request, SignedHeaders=host, Signature=0",
    },
    body: `Action=CreateInstanceProfile&InstanceProfileName=${name}&Version=2010-05-08`,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`moto's CreateInstanceProfile failed: ${text.slice(0, 300)}`);
}

/** The text of base64 user data, which must be UTF-8 (a `TypeError` otherwise). */
function utf8OfBase64(data: string): string {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** A restore-sized job whose disk (300 GiB of staging) Fargate does not fit. */
function bigSpec() {
  return jobSpec({
    kind: "ecs",
    argv: ["rebuild", "--yes", "--in-region", "--repo", "s3://my-backups/laptop"],
    taskRoleArn: "arn:aws:iam::123456789012:role/permafrost-admin-job",
    disk: { stagingBytes: 300 * GiB },
    env: (n) => n === "AWS_REGION" ? region : undefined,
  });
}

Deno.test("a job Fargate does not fit runs on one EC2 instance: its RunInstances arguments, its user data, its states to terminated, its log's progress, result and exit line, and its EC2 and EBS cost", async () => {
  const spec = bigSpec();
  assert.equal(spec.fargate.fits, false);
  const profile = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await instanceProfile(profile);
  const prices = ec2Prices(region);
  const instance = chooseInstance(spec.size, prices);
  assert.equal(instance.type, "m7i.large", "2 vCPU and 4 GB with room for the system");
  const volumeGiB = rootVolumeGiB(spec.disk.gib);
  assert.equal(volumeGiB, spec.disk.gib + 4);

  // What the instance would do: the driver's lines, then the script's exit line; then its own
  // shutdown terminates it.
  let id = "";
  let t = Date.now();
  const put = (messages: string[]) =>
    logs.send(
      new PutLogEventsCommand({
        logGroupName: jobLogGroup,
        logStreamName: taskLogStream(spec.name, id),
        logEvents: messages.map((message) => ({ timestamp: t++, message })),
      }),
    );
  const progress = (done: number, final: boolean) =>
    JSON.stringify({
      type: "progress",
      phase: "rebuild",
      files_done: done,
      files_total: 4,
      bytes_done: done * GiB,
      bytes_total: 4 * GiB,
      errors: 0,
      elapsed_s: 60 * done,
      current: null,
      final,
    });
  let running: Awaited<ReturnType<typeof describe>> | undefined;
  const describe = async () =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]
      .Instances![0];
  const steps = [
    async () => {
      running = await describe();
      await logs.send(new CreateLogGroupCommand({ logGroupName: jobLogGroup })).catch(() => {});
      await logs.send(
        new CreateLogStreamCommand({
          logGroupName: jobLogGroup,
          logStreamName: taskLogStream(spec.name, id),
        }),
      );
      await put([progress(1, false)]);
    },
    async () => {
      await put([
        progress(4, true),
        ...JSON.stringify({ segments: 2, indexedPacks: 40 }, null, 2).split("\n"),
        // A line the job printed cannot pass for the exit line: only its instance's counts.
        JSON.stringify({ type: "exit", code: 9 }),
        JSON.stringify({ type: "exit", code: 0, instance: id }),
      ]);
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    },
  ];
  let clock = Date.parse("2026-12-07T10:00:00Z");
  const states: string[] = [];
  const told: unknown[] = [];
  const outcome = await launchEc2Job(ec2, spec, {
    securityGroups: [],
    publicIp: false,
    instanceProfile: profile,
    instance,
    volumeGiB,
  }, {
    prices,
    intervalSeconds: 900,
    onStarted: (instanceId) => id = instanceId,
    onState: (s) => states.push(s),
    log: (stream) => taskLog(logs, stream),
    onLog: (s) => told.push(s.progress?.files_done),
    sleep: async (ms) => {
      clock += ms;
      await (steps.shift() ?? (() => Promise.resolve()))();
    },
    now: () => new Date(clock),
  });

  assert.equal(outcome.instanceId, id);
  assert.deepEqual(states, ["running", "terminated"]);
  assert.deepEqual(outcome.states, states);
  assert.equal(outcome.exitCode, 0);
  assert.deepEqual(outcome.log.result, { segments: 2, indexedPacks: 40 });
  assert.equal(outcome.log.progress?.final, true);
  assert.deepEqual(told, [1, 4]);
  // Half an hour of m7i.large and its root volume at the shipped eu-west-1 prices.
  assert.equal(outcome.seconds, 1800);
  assert.deepEqual(outcome.items.map((i) => [i.what, i.quantity, i.usd]), [
    ["EC2 m7i.large on demand", 0.5, 0.0562],
    [
      `EBS gp3 root volume, ${volumeGiB} GiB`,
      Math.round((volumeGiB * 0.5) / 730 * 1e6) / 1e6,
      Math.round(Math.round((volumeGiB * 0.5) / 730 * 1e6) / 1e6 * 0.088 * 1e6) / 1e6,
    ],
  ]);

  // RunInstances' arguments, as EC2 keeps them (the profile's association while it ran).
  const described = await describe();
  assert.equal(described.InstanceType, "m7i.large");
  assert.ok(running?.IamInstanceProfile?.Arn?.endsWith(`instance-profile/${profile}`));
  assert.deepEqual(
    described.Tags?.find((tag) => tag.Key === "permafrost:job")?.Value,
    spec.name,
  );
  const attribute = (Attribute: "userData" | "instanceInitiatedShutdownBehavior") =>
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute }));
  assert.equal(
    (await attribute("instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior
      ?.Value,
    "terminate",
  );
  const script = utf8OfBase64((await attribute("userData")).UserData!.Value!);
  assert.equal(script, userData(spec));
  const container = (spec.definition.containerDefinitions as {
    image: string;
    command: string[];
  }[])[0];
  const line = script.replaceAll(" \\\n  ", " "); // the docker run line, unwrapped
  assert.ok(
    line.includes(`${container.image} ${container.command.map(shellWord).join(" ")} --json`),
    script,
  );
  assert.match(script, /--log-driver awslogs/);
  assert.match(script, /--log-opt awslogs-group="\$GROUP"/);
  assert.ok(script.includes(`STREAM=${spec.name}/permafrost/$ID`), script);
  assert.ok(script.includes("--env PERMAFROST_PASSWORD "), "the passphrase is not on the line");
  assert.ok(
    script.includes(`aws ssm get-parameter --region ${region} --name ${spec.passwordFrom}`),
    script,
  );
  assert.ok(
    script.includes(`"message": json.dumps({"type": "exit", "code": int(sys.argv[1]), `),
    script,
  );
  assert.match(script, / "\$CODE" "\$ID" > \/tmp\/permafrost-exit\.json\n/);
  assert.match(script, /^trap 'shutdown -h now' EXIT$/m);
});

Deno.test("the user data carries a path outside ASCII as UTF-8, so the instance runs the path the user gave", async () => {
  const path = "abc123:/home/me/Café/日本";
  const spec = jobSpec({
    kind: "ecs",
    argv: [
      "restore",
      path,
      "--target",
      "s3://my-restores/laptop/",
      "--to",
      "region",
      "--yes",
      "--repo",
      "s3://my-backups/laptop",
    ],
    taskRoleArn: "arn:aws:iam::123456789012:role/permafrost-reader-job",
    env: (n) => n === "AWS_REGION" ? region : undefined,
  });
  const profile = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await instanceProfile(profile);
  const prices = ec2Prices(region);
  let id = "";
  await launchEc2Job(ec2, spec, {
    securityGroups: [],
    publicIp: false,
    instanceProfile: profile,
    instance: chooseInstance(spec.size, prices),
    volumeGiB: 8,
  }, {
    prices,
    intervalSeconds: 1,
    onStarted: (instanceId) => id = instanceId,
    // Its own shutdown, at once: the test reads what RunInstances was given.
    sleep: async () => {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    },
  });
  const sent = (await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
  )).UserData!.Value!;
  const script = utf8OfBase64(sent);
  assert.equal(script, userData(spec));
  assert.ok(script.includes(` ${shellWord(path)} `), script);
});

Deno.test("RunInstances asks for Amazon Linux 2023 by its public SSM parameter, IMDSv2 reachable from a container, and the network given", async () => {
  const { runInstancesInput } = await import("./job_launch_ec2.ts");
  const spec = bigSpec();
  const instance = chooseInstance(spec.size, ec2Prices(region));
  const input = runInstancesInput(spec, {
    subnet: "subnet-0abc",
    securityGroups: ["sg-0abc"],
    publicIp: true,
    instanceProfile: "arn:aws:iam::123456789012:instance-profile/pf",
    instance,
    volumeGiB: 400,
  });
  assert.equal(input.ImageId, AL2023_IMAGE);
  assert.deepEqual(input.MetadataOptions, {
    HttpTokens: "required",
    HttpPutResponseHopLimit: 2,
    HttpEndpoint: "enabled",
  });
  assert.deepEqual(input.IamInstanceProfile, {
    Arn: "arn:aws:iam::123456789012:instance-profile/pf",
  });
  assert.deepEqual(input.BlockDeviceMappings, [{
    DeviceName: "/dev/xvda",
    Ebs: { VolumeSize: 400, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: true },
  }]);
  assert.deepEqual(input.NetworkInterfaces, [{
    DeviceIndex: 0,
    SubnetId: "subnet-0abc",
    Groups: ["sg-0abc"],
    AssociatePublicIpAddress: true,
    DeleteOnTermination: true,
  }]);
});

Deno.test("an instance EC2 no longer describes ends the follow-up with an error naming it and its log", async () => {
  const client = {
    send: (c: { constructor: { name: string } }) =>
      c.constructor.name === "RunInstancesCommand"
        ? Promise.resolve({ Instances: [{ InstanceId: "i-0gone" }] })
        : Promise.reject(Object.assign(new Error("gone"), { name: "InvalidInstanceID.NotFound" })),
  } as unknown as EC2Client;
  const spec = bigSpec();
  const prices = ec2Prices(region);
  await assert.rejects(
    () =>
      launchEc2Job(client, spec, {
        securityGroups: [],
        publicIp: false,
        instanceProfile: "pf",
        instance: chooseInstance(spec.size, prices),
        volumeGiB: 8,
      }, { prices, intervalSeconds: 1, sleep: () => Promise.resolve() }),
    /no longer describes instance i-0gone.*\/permafrost\/jobs, stream permafrost-rebuild\/permafrost\/i-0gone/,
  );
});

Deno.test("an instance EC2 does not describe yet just after RunInstances is waited for, not given up", async () => {
  // DescribeInstances is eventually consistent: NotFound twice, then the instance.
  const answers: (string | undefined)[] = [undefined, undefined, "running", "terminated"];
  const client = {
    send: (c: { constructor: { name: string } }) => {
      if (c.constructor.name === "RunInstancesCommand") {
        return Promise.resolve({ Instances: [{ InstanceId: "i-0new" }] });
      }
      const state = answers.shift();
      return state === undefined
        ? Promise.reject(
          Object.assign(new Error("not yet"), { name: "InvalidInstanceID.NotFound" }),
        )
        : Promise.resolve({ Reservations: [{ Instances: [{ State: { Name: state } }] }] });
    },
  } as unknown as EC2Client;
  const spec = bigSpec();
  const prices = ec2Prices(region);
  const outcome = await launchEc2Job(client, spec, {
    securityGroups: [],
    publicIp: false,
    instanceProfile: "pf",
    instance: chooseInstance(spec.size, prices),
    volumeGiB: 8,
  }, { prices, intervalSeconds: 30, sleep: () => Promise.resolve() });
  assert.deepEqual(outcome.states, ["running", "terminated"]);
  assert.equal(outcome.exitCode, undefined);
});

addEventListener("unload", () => {
  ec2.destroy();
  logs.destroy();
});
