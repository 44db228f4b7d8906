/**
 * In-region jobs (docs/in-region.md, docs/design.md §1): a Permafrost command line turned into an
 * ECS Fargate task definition (`aws ecs register-task-definition --cli-input-json`) or an AWS
 * Batch job definition (`aws batch register-job-definition --cli-input-json`) that runs it next
 * to the data, where reading S3 is free and egress is not paid (docs/cost-model.md §4.4, §6.2).
 *
 * The spec carries: the image and command (docs/in-region.md §3: `denoland/deno` fetching a
 * pinned source tarball, or an image you built), a task size from the bytes to process
 * ({@link jobSize}), `AWS_REGION`, `PERMAFROST_PASSWORD` as a secret reference (SSM Parameter
 * Store or Secrets Manager, never a value), and the roles: the task role gets the repository
 * role's identity policy (host/s3/policy.ts: admin for gc, rebuild, forget; reader for check,
 * restore), the execution role reads the secret and writes the logs. Pure functions, no I/O:
 * `host/cli/job_flags.ts` prints what they return.
 *
 * @module
 */

import { parseS3Location, type S3Target } from "../storage/s3_location.ts";
import { identityPolicy, type PolicyDocument } from "../s3/policy.ts";
import { parsePrincipal } from "../s3/principal.ts";

export { type HomeVsRegion, homeVsRegion } from "./home_vs_region.ts";

/** Which AWS service runs the job. */
export type JobKind = "ecs" | "batch";
export const jobKinds: readonly JobKind[] = ["ecs", "batch"];

/** The default image: Deno's official image, at the Deno release Permafrost is measured on. */
export const defaultImage = "denoland/deno:2.9.6";

/** The default SSM parameter holding the passphrase (a SecureString). */
export const defaultPasswordParameter = "/permafrost/password";

/** The CloudWatch Logs group jobs write to. */
export const jobLogGroup = "/permafrost/jobs";

/** Stands for the account id where no ARN given says it. */
const ACCOUNT = "ACCOUNT_ID";

/** The commands a job may run, and the repository role each needs (docs/s3.md §3). */
export const jobRoles: Readonly<Record<string, "reader" | "admin">> = {
  gc: "admin",
  rebuild: "admin",
  forget: "admin",
  check: "reader",
  restore: "reader",
};

/** A Fargate task size. */
export interface JobSize {
  vcpu: number;
  memoryGB: number;
}

const TiB = 2 ** 40;

/**
 * The task size for a job that processes `bytes` (reads and writes): 2 vCPU and 4 GB up to 1 TiB
 * (the job the cost model prices, docs/cost-model.md §1.4: 2.4 hours per TiB at its slow end),
 * 4 vCPU and 8 GB up to 16 TiB, 8 vCPU and 16 GB beyond. More vCPU shortens what runs in
 * workers: compression, one worker per core beyond the first (`host/repository/compressor.ts`,
 * docs/design.md §8), and a restore's file writes; decryption and decompression stay on the main
 * thread (docs/bench.md "Restore writes off the main thread"). Memory is 2 GB per vCPU,
 * Fargate's smallest ratio at these sizes: the job streams packs one at a time and needs little.
 * Pass the result as `Assumptions.job` so the estimate prices the same task.
 */
export function jobSize(bytes: number): JobSize {
  if (bytes <= TiB) return { vcpu: 2, memoryGB: 4 };
  if (bytes <= 16 * TiB) return { vcpu: 4, memoryGB: 8 };
  return { vcpu: 8, memoryGB: 16 };
}

/** Memory Fargate accepts for each vCPU count, in GB: from, to, step. */
const fargateSizes: Record<number, [number, number, number]> = {
  0.25: [0.5, 2, 0.5],
  0.5: [1, 4, 1],
  1: [2, 8, 1],
  2: [4, 16, 1],
  4: [8, 30, 1],
  8: [16, 60, 4],
  16: [32, 120, 8],
};

/** A `RangeError` unless Fargate runs a task of `size`. */
export function checkFargateSize(size: JobSize): void {
  const range = fargateSizes[size.vcpu];
  const ok = range !== undefined && size.memoryGB >= range[0] && size.memoryGB <= range[1] &&
    Number.isInteger((size.memoryGB - range[0]) / range[2]);
  if (!ok) {
    throw new RangeError(
      `Fargate runs no task of ${size.vcpu} vCPU and ${size.memoryGB} GB; ` +
        "vCPU 0.25, 0.5, 1, 2, 4, 8 or 16 with 2 to 8 GB per vCPU (see docs/in-region.md §4)",
    );
  }
}

/** What {@link jobSpec} needs. */
export interface JobSpecOptions {
  kind: JobKind;
  /** The command line, without `permafrost`: `["gc", "compact", "--repo", "s3://b/p", "--yes"]`. */
  argv: string[];
  /** The repository when `argv` has no `--repo` (it must be on S3). */
  repo?: string;
  /** An image that runs Permafrost (its entry point takes the command line); default below. */
  image?: string;
  /**
   * For the default image: a `.tar.gz` of Permafrost's source with one top folder (GitHub's
   * archive of a commit: `https://codeload.github.com/OWNER/REPO/tar.gz/COMMIT`), and its
   * SHA-256, which the job checks before running anything from it.
   */
  source?: { url: string; sha256?: string };
  /** The task role (ECS `taskRoleArn`, Batch `jobRoleArn`): it gets {@link JobSpec.taskPolicy}. */
  taskRoleArn?: string;
  /** The execution role (pulls the image, reads the secret, writes logs). */
  executionRoleArn?: string;
  /**
   * Where the passphrase is: an SSM parameter name (`/permafrost/password`) or ARN, or a
   * Secrets Manager secret ARN. Default {@link defaultPasswordParameter}.
   */
  passwordSecret?: string;
  /** Bytes the job reads and writes, for {@link jobSize}; default: the smallest size. */
  bytes?: number;
  /** The task size, instead of {@link jobSize}'s. */
  size?: JobSize;
  /** The bucket keeps versions (or Object Lock): the admin policy may delete versions. */
  versioned?: boolean;
  /** Environment lookup for the location's region (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

/** A trust policy: who may assume a role. */
export interface TrustPolicy {
  Version: "2012-10-17";
  Statement: {
    Effect: "Allow";
    Principal: { Service: string };
    Action: "sts:AssumeRole";
  }[];
}

/** Everything needed to register and run the job. */
export interface JobSpec {
  kind: JobKind;
  /** The task definition family / job definition name, and the job's name. */
  name: string;
  region: string;
  /** The repository role the command needs, which the task role's policy grants. */
  role: "reader" | "admin";
  size: JobSize;
  /** The command line the container runs (Permafrost's, rewritten for the job). */
  argv: string[];
  /** The JSON for `--cli-input-json`. */
  definition: Record<string, unknown>;
  /** The task role's policy: the repository role's (host/s3/policy.ts). */
  taskPolicy: PolicyDocument;
  /** The execution role's policy: the secret, the logs, and ECR when the image is there. */
  executionPolicy: { Version: "2012-10-17"; Statement: Record<string, unknown>[] };
  /** Both roles trust ECS tasks (Batch on Fargate runs them as ECS tasks). */
  trustPolicy: TrustPolicy;
  taskRoleArn: string;
  executionRoleArn: string;
  /** Where `PERMAFROST_PASSWORD` comes from (the `valueFrom` of the secret reference). */
  passwordFrom: string;
  /**
   * What was not given and stands as a placeholder: a role (named `permafrost-<role>-job` or
   * `permafrost-job-execution`, to create) or the default image's source URL.
   */
  missing: { taskRole: boolean; executionRole: boolean; source: boolean };
}

/**
 * The job spec for `o.argv`. A `TypeError` for a command that cannot run as a job, a local
 * repository, a custom endpoint, a key file, or a malformed ARN; a `RangeError` for a task size
 * Fargate does not run. Steps: the command line and task size, the roles ({@link jobRoleArns}),
 * the container ({@link jobContainer}), then the ECS or Batch definition around it.
 */
export function jobSpec(o: JobSpecOptions): JobSpec {
  const env = o.env ?? ((name: string) => Deno.env.get(name));
  const { argv, target } = jobArgv(o.argv, o.repo, env);
  const role = jobRoles[argv[0]];
  const region = target.region;
  const size = o.size ?? jobSize(o.bytes ?? 0);
  checkFargateSize(size);
  const name = jobName(argv);
  const arns = jobRoleArns(o, role, target);
  const secret = secretRef(o.passwordSecret ?? defaultPasswordParameter, target, arns.account);
  const container = jobContainer(o, argv, name, region, secret);
  const definition = o.kind === "ecs"
    ? ecsTaskDefinition(name, size, arns, container)
    : batchJobDefinition(name, size, arns, container);
  return {
    kind: o.kind,
    name,
    region,
    role,
    size,
    argv,
    definition,
    taskPolicy: identityPolicy(role, target.bucket, target.prefix, {
      partition: target.partition,
      versioned: o.versioned === true,
    }),
    executionPolicy: executionPolicy(container.image, secret, target, region, arns.account),
    trustPolicy: {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: "sts:AssumeRole",
      }],
    },
    taskRoleArn: arns.taskRoleArn,
    executionRoleArn: arns.executionRoleArn,
    passwordFrom: secret.valueFrom,
    missing: {
      taskRole: o.taskRoleArn === undefined,
      executionRole: o.executionRoleArn === undefined,
      source: o.image === undefined && o.source === undefined,
    },
  };
}

/** The job's two roles, and the account id the given ARNs name (if any). */
interface JobRoleArns {
  taskRoleArn: string;
  executionRoleArn: string;
  account: string | undefined;
}

/**
 * The task and execution role ARNs: each as given (a `TypeError` unless it is an IAM role ARN),
 * or a placeholder to create (`permafrost-<role>-job`, `permafrost-job-execution`) in the
 * account any given ARN names, else {@link ACCOUNT}.
 */
function jobRoleArns(
  o: JobSpecOptions,
  role: "reader" | "admin",
  target: S3Target,
): JobRoleArns {
  const account = accountOf(o.taskRoleArn) ?? accountOf(o.executionRoleArn) ??
    accountOf(o.passwordSecret);
  const roleArn = (given: string | undefined, roleName: string, what: string) =>
    given === undefined
      ? `arn:${target.partition}:iam::${account ?? ACCOUNT}:role/${roleName}`
      : checkedRoleArn(given, what);
  return {
    taskRoleArn: roleArn(o.taskRoleArn, `permafrost-${role}-job`, "task role"),
    executionRoleArn: roleArn(o.executionRoleArn, "permafrost-job-execution", "execution role"),
    account,
  };
}

/** What runs in the container, the same for ECS and Batch. */
interface JobContainer {
  image: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logs: Record<string, unknown>;
  platform: { cpuArchitecture: string; operatingSystemFamily: string };
}

/**
 * The container: the given image running `argv`, or the default image fetching the source
 * (its URL, or a placeholder, and its SHA-256 in the environment: a `TypeError` unless 64 hex
 * digits) and running `argv` from it; `AWS_REGION`, the passphrase as a secret reference, and
 * logs to {@link jobLogGroup} under the job's name.
 */
function jobContainer(
  o: JobSpecOptions,
  argv: string[],
  name: string,
  region: string,
  secret: SecretRef,
): JobContainer {
  const environment = [{ name: "AWS_REGION", value: region }];
  let command: string[];
  if (o.image === undefined) {
    const url = o.source?.url;
    environment.push({ name: "PERMAFROST_SOURCE_URL", value: url ?? sourcePlaceholder });
    if (o.source?.sha256 !== undefined) {
      if (!/^[0-9a-f]{64}$/.test(o.source.sha256)) {
        throw new TypeError(`source SHA-256 "${o.source.sha256}" is not 64 hex digits`);
      }
      environment.push({ name: "PERMAFROST_SOURCE_SHA256", value: o.source.sha256 });
    }
    command = ["sh", "-c", sourceScript, "permafrost", ...argv];
  } else {
    command = argv;
  }
  return {
    image: o.image ?? defaultImage,
    command,
    environment,
    secrets: [{ name: "PERMAFROST_PASSWORD", valueFrom: secret.valueFrom }],
    logs: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": jobLogGroup,
        "awslogs-region": region,
        "awslogs-stream-prefix": name,
        "awslogs-create-group": "true",
      },
    },
    platform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
  };
}

/** The ECS Fargate task definition (`aws ecs register-task-definition --cli-input-json`). */
function ecsTaskDefinition(
  name: string,
  size: JobSize,
  arns: JobRoleArns,
  c: JobContainer,
): Record<string, unknown> {
  return {
    family: name,
    taskRoleArn: arns.taskRoleArn,
    executionRoleArn: arns.executionRoleArn,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: String(size.vcpu * 1024),
    memory: String(size.memoryGB * 1024),
    runtimePlatform: c.platform,
    containerDefinitions: [{
      name: "permafrost",
      image: c.image,
      essential: true,
      command: c.command,
      environment: c.environment,
      secrets: c.secrets,
      logConfiguration: c.logs,
    }],
  };
}

/** The AWS Batch job definition on Fargate (`aws batch register-job-definition`). */
function batchJobDefinition(
  name: string,
  size: JobSize,
  arns: JobRoleArns,
  c: JobContainer,
): Record<string, unknown> {
  return {
    jobDefinitionName: name,
    type: "container",
    platformCapabilities: ["FARGATE"],
    retryStrategy: { attempts: 1 },
    containerProperties: {
      image: c.image,
      command: c.command,
      jobRoleArn: arns.taskRoleArn,
      executionRoleArn: arns.executionRoleArn,
      resourceRequirements: [
        { type: "VCPU", value: String(size.vcpu) },
        { type: "MEMORY", value: String(size.memoryGB * 1024) },
      ],
      environment: c.environment,
      secrets: c.secrets,
      networkConfiguration: { assignPublicIp: "ENABLED" },
      fargatePlatformConfiguration: { platformVersion: "LATEST" },
      runtimePlatform: c.platform,
      logConfiguration: c.logs,
    },
  };
}

/** Flags that configure the emitting, not the job: dropped from the job's command line. */
const emitFlags = ["--emit-job", "--image", "--job-role"];

/**
 * The command line the job runs: `argv` without the emitting flags, and its `--repo` (or
 * `repo`) rewritten to `s3://BUCKET/PREFIX?region=R` (the region as `env` resolves it, see
 * host/storage/s3_location.ts): the job's credentials come from its task role, so a `profile=`
 * is dropped; an `endpoint=` is refused (the job reads AWS's S3; an endpoint in the
 * environment is ignored). A `TypeError` for a command that is not a job, a key file (not in
 * the container), or no S3 repository.
 */
export function jobArgv(
  argv: string[],
  repo?: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): { argv: string[]; target: S3Target } {
  const out: string[] = [];
  let location = repo;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (emitFlags.includes(flag)) {
      value();
    } else if (flag === "--repo") {
      location = value();
    } else if (flag === "--key-file") {
      throw new TypeError(
        "a job cannot use --key-file (the file is not in its container): it opens the " +
          "repository with PERMAFROST_PASSWORD from its secret",
      );
    } else {
      out.push(arg);
    }
  }
  const verb = out[0];
  if (verb === undefined || jobRoles[verb] === undefined) {
    throw new TypeError(
      `"${verb ?? ""}" cannot run as an in-region job; these can: ${
        Object.keys(jobRoles).join(", ")
      }`,
    );
  }
  if (location === undefined || !location.startsWith("s3://")) {
    throw new TypeError(
      `an in-region job needs a repository on S3 (--repo s3://BUCKET/PREFIX), not ${
        location === undefined ? "none" : `"${location}"`
      }`,
    );
  }
  const query = new URLSearchParams(location.split("?")[1] ?? "");
  if (query.has("endpoint")) {
    throw new TypeError(
      `an in-region job reads Amazon S3 itself; leave "endpoint=" out of "${location}"`,
    );
  }
  const target = parseS3Location(
    location.split("?")[0] + (query.has("region") ? `?region=${query.get("region")}` : ""),
    (name) => name.startsWith("AWS_ENDPOINT_URL") ? undefined : env(name),
  );
  const base = `s3://${target.bucket}${target.prefix === "" ? "" : "/" + target.prefix}`;
  return { argv: [...out, "--repo", `${base}?region=${target.region}`], target };
}

/** `permafrost-gc-compact`: the positionals before the first flag, in letters, digits, `-`. */
function jobName(argv: string[]): string {
  const words = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""));
  }
  return ["permafrost", ...words.filter((w) => w !== "").slice(0, 3)].join("-").slice(0, 100);
}

function accountOf(arn: string | undefined): string | undefined {
  return arn?.match(/^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/)?.[1];
}

function checkedRoleArn(arn: string, what: string): string {
  const p = parsePrincipal(arn);
  if (p.kind !== "role") {
    throw new TypeError(`the ${what} must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  }
  return arn;
}

interface SecretRef {
  valueFrom: string;
  /** The ARN the execution role's policy names. */
  arn: string;
  service: "ssm" | "secretsmanager";
}

/** An SSM parameter (name or ARN) or a Secrets Manager ARN, as ECS and Batch take it. */
function secretRef(given: string, target: S3Target, account: string | undefined): SecretRef {
  if (/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/.test(given)) {
    return { valueFrom: given, arn: given, service: "secretsmanager" };
  }
  if (/^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter\/[\w/.-]+$/.test(given)) {
    return { valueFrom: given, arn: given, service: "ssm" };
  }
  if (/^\/?[\w.-]+(\/[\w.-]+)*$/.test(given)) {
    // A name: ECS and Batch accept it for a parameter in the task's own region.
    const path = given.startsWith("/") ? given.slice(1) : given;
    return {
      valueFrom: given,
      arn: `arn:${target.partition}:ssm:${target.region}:${account ?? "*"}:parameter/${path}`,
      service: "ssm",
    };
  }
  throw new TypeError(
    `password secret "${given}" is neither an SSM parameter name or ARN nor a Secrets Manager ` +
      "secret ARN",
  );
}

function executionPolicy(
  image: string,
  secret: SecretRef,
  target: S3Target,
  region: string,
  account: string | undefined,
): JobSpec["executionPolicy"] {
  const statements: Record<string, unknown>[] = [
    {
      Sid: "WriteJobLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [
        `arn:${target.partition}:logs:${region}:${account ?? "*"}:log-group:${jobLogGroup}:*`,
      ],
    },
    {
      Sid: "ReadPassphrase",
      Effect: "Allow",
      Action: secret.service === "ssm" ? ["ssm:GetParameters"] : ["secretsmanager:GetSecretValue"],
      Resource: [secret.service === "secretsmanager" ? `${secret.arn}*` : secret.arn],
    },
  ];
  const ecr = image.match(/^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/);
  if (ecr) {
    statements.push(
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Sid: "PullImage",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
        ],
        Resource: [`arn:${target.partition}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`],
      },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}

const sourcePlaceholder = "https://SOURCE-URL.invalid/permafrost.tar.gz";

/**
 * What the default image runs (`sh -c SCRIPT permafrost ARGS...`): download the source tarball
 * with Deno's `fetch` (the image has no curl), check its SHA-256 when given, unpack it, and run
 * Permafrost from it with the locked dependencies (`--frozen`: deno.lock pins every package).
 * docs/in-region.md §3.
 */
export const sourceScript = [
  "set -eu",
  'cd "$(mktemp -d)"',
  `deno eval 'const u = Deno.env.get("PERMAFROST_SOURCE_URL"); const r = await fetch(u); ` +
  "if (!r.ok || !r.body) throw new Error(`${u}: HTTP ${r.status}`); " +
  `await Deno.writeFile("permafrost.tar.gz", r.body)'`,
  'if [ -n "${PERMAFROST_SOURCE_SHA256:-}" ]; then ' +
  'echo "$PERMAFROST_SOURCE_SHA256  permafrost.tar.gz" | sha256sum -c --quiet -; ' +
  'else echo "permafrost: PERMAFROST_SOURCE_SHA256 is not set; the source is not checked" >&2; fi',
  "mkdir permafrost",
  "tar -xzf permafrost.tar.gz -C permafrost --strip-components=1",
  "cd permafrost",
  'exec deno run --allow-all --quiet --frozen --v8-flags=--max-semi-space-size=8 host/cli/main.ts "$@"',
].join("\n");
