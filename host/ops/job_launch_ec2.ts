/**
 * `--in-region --launch ec2` (docs/in-region.md §7): the job of a spec run on one EC2 instance
 * instead of a Fargate task, for a job Fargate does not fit (more disk than 200 GiB, more vCPU or
 * memory than its largest task; `fargateFit` in job_size.ts) or when asked. RunInstances starts
 * Amazon Linux 2023 (its AMI from the public SSM parameter, `resolve:ssm:` in `ImageId`) of the
 * type {@link chooseInstance} picks for the job's size, with a gp3 root volume of the job's disk
 * ({@link rootVolumeGiB}), the given instance profile, IMDSv2, and `terminate` as what its own
 * shutdown does. Its user data ({@link userData}) installs docker, reads the passphrase from the
 * job's SSM parameter or Secrets Manager secret, runs the spec's image and command (with
 * `--json`) once with the `awslogs` driver into the stream `JOB_NAME/permafrost/INSTANCE_ID` of
 * the job log group (the name `job_log.ts` reads), writes a last line
 * `{"type":"exit","code":N,"instance":ID}` there, and shuts the instance down, which
 * terminates it.
 *
 * The launcher follows DescribeInstances every `intervalSeconds` to `terminated`, reading the
 * log between descriptions as the Fargate launcher does, and reports the exit code from that
 * last line, how long the instance ran (launch to `terminated`, by the launcher's clock), and its
 * EC2 and EBS cost at the shipped prices (host/cost/ec2_job.ts).
 *
 * EC2 is reached through the AWS SDK (`@aws-sdk/client-ec2`) with the launcher's credentials;
 * {@link ec2Client} takes `PERMAFROST_EC2_ENDPOINT` for a test's moto.
 *
 * @module
 */

import type { EC2Client, RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import { type Ec2Instance, ec2Items, type Ec2Prices } from "../cost/ec2_job.ts";
import type { LineItem } from "../cost/estimate.ts";
import { type S3Target, sdkCredentials } from "../storage/s3_location.ts";
import { jobLogGroup } from "./job_definition.ts";
import { jsonCommand } from "./job_launch.ts";
import { type JobLogState, readJobLines, taskLogStream } from "./job_log.ts";
import type { JobSpec } from "./job_spec.ts";

/** Amazon Linux 2023's latest x86 AMI, resolved by EC2 from AWS's public SSM parameter. */
export const AL2023_IMAGE =
  "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/** Where and as what the instance runs. */
export interface Ec2Launch {
  /** The subnet; none: the default VPC's default subnet in some zone. */
  subnet?: string;
  securityGroups: string[];
  /** Give the instance a public IP (a public subnet without a NAT gateway needs it). */
  publicIp: boolean;
  /** The instance profile (name or ARN): its role has the task and execution roles' policies. */
  instanceProfile: string;
  instance: Ec2Instance;
  volumeGiB: number;
}

/** How an instance's job ended. */
export interface Ec2Outcome {
  instanceId: string;
  instanceType: string;
  volumeGiB: number;
  /** Permafrost's exit status, from the log's last `{"type":"exit"}` line. */
  exitCode?: number;
  /** Why EC2 says the instance changed state (its own shutdown, a terminate call). */
  stateReason?: string;
  /** Every state seen, in order (pending, running, shutting-down, terminated). */
  states: string[];
  /** Seconds from launch to `terminated`, by the launcher's clock. */
  seconds: number;
  items: LineItem[];
  usd: number;
  log: JobLogState;
}

/** Options of {@link launchEc2Job}. */
export interface Ec2LaunchOptions {
  prices: Ec2Prices;
  /** Seconds between DescribeInstances. */
  intervalSeconds: number;
  onState?: (state: string, at: Date) => void;
  /** Told the instance's id once RunInstances started it (it runs whether followed or not). */
  onStarted?: (instanceId: string) => void;
  /** The log reader of a stream (`taskLog`): new lines on each call. */
  log?: (stream: string) => () => Promise<string[]>;
  onLog?: (state: JobLogState) => void;
  onLogError?: (error: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

/** The EC2 client in `target`'s region with the host's credentials for it. */
export async function ec2Client(
  target: S3Target,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<EC2Client> {
  const { EC2Client } = await import("@aws-sdk/client-ec2");
  const endpoint = env("PERMAFROST_EC2_ENDPOINT") || undefined;
  return new EC2Client({
    region: target.region,
    ...(endpoint ? { endpoint } : {}),
    credentials: sdkCredentials(target),
  });
}

/** Descriptions a new instance may be missing from before the launcher gives up on it. */
const UNSEEN_DESCRIPTIONS = 12;

/** Disk of the system under the job (Amazon Linux, docker) on the root volume. */
const SYSTEM_GIB = 4;
/** Amazon Linux 2023's AMI has an 8 GiB snapshot: the root volume is at least that. */
const AMI_GIB = 8;

/** The root volume for a job needing `diskGiB` (`jobDisk`): that and the system's. */
export function rootVolumeGiB(diskGiB: number): number {
  return Math.max(AMI_GIB, diskGiB + SYSTEM_GIB);
}

/**
 * Starts the instance and follows it to `terminated` (see the module doc). An `Error` naming the
 * reason when EC2 starts none, or when it no longer describes the instance.
 */
export async function launchEc2Job(
  ec2: EC2Client,
  spec: JobSpec,
  launch: Ec2Launch,
  o: Ec2LaunchOptions,
): Promise<Ec2Outcome> {
  const sdk = await import("@aws-sdk/client-ec2");
  const now = o.now ?? (() => new Date());
  const started = now();
  const run = await ec2.send(new sdk.RunInstancesCommand(runInstancesInput(spec, launch)));
  const instanceId = run.Instances?.[0]?.InstanceId;
  if (!instanceId) throw new Error(`EC2 started no instance for the job "${spec.name}"`);
  o.onStarted?.(instanceId);
  let read = o.log?.(taskLogStream(spec.name, instanceId));
  let log: JobLogState = {};
  const readLog = async () => {
    if (read === undefined) return;
    try {
      const next = readJobLines(log, await read(), instanceId);
      const told = next.progress !== log.progress || next.result !== log.result ||
        next.exit !== log.exit;
      log = next;
      if (told) o.onLog?.(log);
    } catch (e) {
      read = undefined;
      o.onLogError?.(e);
    }
  };
  const states: string[] = [];
  let unseen = 0;
  for (;;) {
    let instance;
    try {
      const out = await ec2.send(new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      instance = out.Reservations?.[0]?.Instances?.[0];
    } catch (err) {
      if ((err as { name?: string }).name !== "InvalidInstanceID.NotFound") throw err;
    }
    if (instance === undefined && states.length === 0 && unseen++ < UNSEEN_DESCRIPTIONS) {
      // EC2 is eventually consistent: an instance RunInstances just started may not be
      // described yet (InvalidInstanceID.NotFound); only one seen before is gone.
      const ms = Math.min(o.intervalSeconds, 5) * 1000;
      await (o.sleep ? o.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
      continue;
    }
    if (instance === undefined) {
      throw new Error(
        `EC2 no longer describes instance ${instanceId}: its exit code is unknown; read its ` +
          `log (${jobLogGroup}, stream ${taskLogStream(spec.name, instanceId)}) for how it ended`,
      );
    }
    const state = instance.State?.Name ?? "unknown";
    if (states.at(-1) !== state) {
      states.push(state);
      o.onState?.(state, now());
    }
    await readLog();
    if (state === "terminated") {
      await readLog(); // the driver may send the last lines after EC2 reports it
      const seconds = Math.max(0, (now().getTime() - started.getTime()) / 1000);
      const items = ec2Items(launch.instance, launch.volumeGiB, seconds, o.prices);
      return {
        instanceId,
        instanceType: launch.instance.type,
        volumeGiB: launch.volumeGiB,
        ...(log.exit !== undefined ? { exitCode: log.exit } : {}),
        ...(instance.StateReason?.Message ? { stateReason: instance.StateReason.Message } : {}),
        states,
        seconds,
        items,
        usd: Math.round(items.reduce((s, i) => s + i.usd, 0) * 1e6) / 1e6,
        log: {
          ...(log.progress ? { progress: log.progress } : {}),
          ...(log.result ? { result: log.result } : {}),
          ...(log.exit !== undefined ? { exit: log.exit } : {}),
        },
      };
    }
    const ms = o.intervalSeconds * 1000;
    await (o.sleep ? o.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
  }
}

/**
 * RunInstances' input: one instance of `launch.instance`'s type from {@link AL2023_IMAGE}, a gp3
 * root volume deleted with it, the instance profile, IMDSv2 with a hop limit of 2 (the
 * container reaches the instance's credentials through docker's bridge), `terminate` on its
 * own shutdown, the network, tags naming the job, and {@link userData}.
 */
export function runInstancesInput(spec: JobSpec, launch: Ec2Launch): RunInstancesCommandInput {
  const network = launch.publicIp || launch.subnet !== undefined
    ? {
      NetworkInterfaces: [{
        DeviceIndex: 0,
        ...(launch.subnet ? { SubnetId: launch.subnet } : {}),
        ...(launch.securityGroups.length ? { Groups: launch.securityGroups } : {}),
        AssociatePublicIpAddress: launch.publicIp,
        DeleteOnTermination: true,
      }],
    }
    : launch.securityGroups.length
    ? { SecurityGroupIds: launch.securityGroups }
    : {};
  const tags = [
    { Key: "Name", Value: spec.name },
    { Key: "permafrost:job", Value: spec.name },
  ];
  return {
    ImageId: AL2023_IMAGE,
    InstanceType: launch.instance.type as RunInstancesCommandInput["InstanceType"],
    MinCount: 1,
    MaxCount: 1,
    InstanceInitiatedShutdownBehavior: "terminate",
    IamInstanceProfile: launch.instanceProfile.startsWith("arn:")
      ? { Arn: launch.instanceProfile }
      : { Name: launch.instanceProfile },
    BlockDeviceMappings: [{
      DeviceName: "/dev/xvda",
      Ebs: {
        VolumeSize: launch.volumeGiB,
        VolumeType: "gp3",
        DeleteOnTermination: true,
        Encrypted: true,
      },
    }],
    MetadataOptions: {
      HttpTokens: "required",
      HttpPutResponseHopLimit: 2,
      HttpEndpoint: "enabled",
    },
    ...network,
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags },
    ],
    UserData: base64Utf8(userData(spec)),
  };
}

/**
 * `text` as UTF-8, in base64 (what RunInstances takes as `UserData`). `btoa` alone would send a
 * path's "é" as one Latin-1 byte, which the instance's shell passes on as invalid UTF-8, and
 * throws on anything beyond Latin-1.
 */
function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** `s` as one word of a POSIX shell. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The instance's user data: a shell script that installs docker, fetches the passphrase from
 * the spec's secret, runs the spec's container once (its image, environment and command with
 * `--json`) logging to `JOB_NAME/permafrost/INSTANCE_ID` in the job log group, writes
 * `{"type":"exit","code":N,"instance":ID}` into that stream, and shuts down whatever happened
 * (a trap on the script's exit), which terminates the instance.
 */
export function userData(spec: JobSpec): string {
  const container = (spec.definition.containerDefinitions as {
    image: string;
    command: string[];
    environment: { name: string; value: string }[];
  }[])[0];
  const q = shellWord;
  const region = spec.region;
  const secret = spec.passwordFrom;
  const fetchSecret = secret.includes(":secretsmanager:")
    ? `aws secretsmanager get-secret-value --region ${region} --secret-id ${q(secret)} ` +
      "--query SecretString --output text"
    : `aws ssm get-parameter --region ${region} --name ${q(secret)} --with-decryption ` +
      "--query Parameter.Value --output text";
  const ecr = /^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?)\//.exec(container.image);
  const env = container.environment.map((e) => `--env ${q(`${e.name}=${e.value}`)}`);
  const command = jsonCommand(container.command).map(q).join(" ");
  return [
    "#!/bin/bash",
    `# Permafrost in-region job ${spec.name} (docs/in-region.md §7): runs once, then powers off`,
    "# (the instance's shutdown behaviour is terminate).",
    "set -u",
    "trap 'shutdown -h now' EXIT",
    `REGION=${region}`,
    `GROUP=${q(jobLogGroup)}`,
    "IMDS=http://169.254.169.254/latest",
    'TOKEN=$(curl -sX PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
    'ID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "$IMDS/meta-data/instance-id")',
    `STREAM=${q(spec.name)}/permafrost/$ID`,
    'aws logs create-log-group --region "$REGION" --log-group-name "$GROUP" 2>/dev/null',
    'aws logs create-log-stream --region "$REGION" --log-group-name "$GROUP" ' +
    '--log-stream-name "$STREAM"',
    "dnf install -y docker >/dev/null && systemctl start docker",
    ...(ecr
      ? [
        `aws ecr get-login-password --region "$REGION" | ` +
        `docker login --username AWS --password-stdin ${ecr[1]}`,
      ]
      : []),
    `PERMAFROST_PASSWORD=$(${fetchSecret})`,
    "export PERMAFROST_PASSWORD",
    [
      "docker run --rm --log-driver awslogs",
      '--log-opt awslogs-region="$REGION" --log-opt awslogs-group="$GROUP"',
      '--log-opt awslogs-stream="$STREAM"',
      "--env PERMAFROST_PASSWORD",
      ...env,
      q(container.image),
      command,
    ].join(" \\\n  "),
    "CODE=$?",
    "unset PERMAFROST_PASSWORD",
    // The exit line, as put-log-events takes it (Amazon Linux 2023 has python3, dnf needs it).
    "python3 -c " +
    q(
      'import json, sys, time; print(json.dumps([{"timestamp": int(time.time() * 1000), ' +
        '"message": json.dumps({"type": "exit", "code": int(sys.argv[1]), ' +
        '"instance": sys.argv[2]})}]))',
    ) + ' "$CODE" "$ID" > /tmp/permafrost-exit.json',
    'aws logs put-log-events --region "$REGION" --log-group-name "$GROUP" ' +
    '--log-stream-name "$STREAM" --log-events file:///tmp/permafrost-exit.json',
    "",
  ].join("\n");
}
