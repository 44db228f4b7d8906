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
 * {@link jobSpec} puts together the parts, each in its own file: the command line
 * (`job_argv.ts`), the task size (`job_size.ts`), the roles and policies (`job_iam.ts`), and
 * the container and the ECS or Batch definition around it (`job_definition.ts`).
 *
 * @module
 */

import { identityPolicy, type PolicyDocument } from "../s3/policy.ts";
import { jobArgv, jobName, jobRoles } from "./job_argv.ts";
import { batchJobDefinition, ecsTaskDefinition, jobContainer } from "./job_definition.ts";
import {
  defaultPasswordParameter,
  ecsTasksTrust,
  type ExecutionPolicy,
  executionPolicy,
  jobRoleArns,
  secretRef,
  type TrustPolicy,
} from "./job_iam.ts";
import {
  checkFargateSize,
  type DiskNeeds,
  FARGATE_DEFAULT_DISK_GIB,
  type FargateFit,
  fargateFit,
  type JobDisk,
  jobDisk,
  type JobSize,
  jobSize,
} from "./job_size.ts";
import { restoreTargetStatements } from "./restore_s3_target.ts";

/** Which AWS service runs the job. */
export type JobKind = "ecs" | "batch";
export const jobKinds: readonly JobKind[] = ["ecs", "batch"];

/** What {@link jobSpec} needs. */
export interface JobSpecOptions {
  kind: JobKind;
  /** The command line, without `permafrost`: `["gc", "compact", "--repo", "s3://b/p", "--yes"]`. */
  argv: string[];
  /** The repository when `argv` has no `--repo` (it must be on S3). */
  repo?: string;
  /**
   * An image that runs Permafrost (its entry point takes the command line); default
   * `permafrostImage` (job_definition.ts), the repository's Dockerfile's image in ECR.
   */
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
  /** What the job keeps on disk, for {@link jobDisk}; default the image alone. */
  disk?: DiskNeeds;
  /** The task size, instead of {@link jobSize}'s (it must be one Fargate runs). */
  size?: JobSize;
  /** The bucket keeps versions (or Object Lock): the admin policy may delete versions. */
  versioned?: boolean;
  /** Environment lookup for the location's region (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
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
  /** The disk it needs ({@link jobDisk}); `size.diskGiB` when over Fargate's default. */
  disk: JobDisk;
  /**
   * Whether Fargate runs it (`definition` asks for the ephemeral storage it needs); when not,
   * `definition` is not one to register, and the job runs on EC2 (`job_launch_ec2.ts`).
   */
  fargate: FargateFit;
  /** The command line the container runs (Permafrost's, rewritten for the job). */
  argv: string[];
  /** The JSON for `--cli-input-json`. */
  definition: Record<string, unknown>;
  /** The task role's policy: the repository role's (host/s3/policy.ts). */
  taskPolicy: PolicyDocument;
  /** The execution role's policy: the secret, the logs, and ECR when the image is there. */
  executionPolicy: ExecutionPolicy;
  /** Both roles trust ECS tasks (Batch on Fargate runs them as ECS tasks). */
  trustPolicy: TrustPolicy;
  taskRoleArn: string;
  executionRoleArn: string;
  /** Where `PERMAFROST_PASSWORD` comes from (the `valueFrom` of the secret reference). */
  passwordFrom: string;
  /**
   * What was not given: a role (named `permafrost-<role>-job` or `permafrost-job-execution`,
   * to create), or the image (the default, `permafrostImage`: build it from the repository's
   * Dockerfile and push it under that name).
   */
  missing: { taskRole: boolean; executionRole: boolean; image: boolean };
}

/**
 * The job spec for `o.argv`. A `TypeError` for a command that cannot run as a job, a local
 * repository, a custom endpoint, a key file, or a malformed ARN; a `RangeError` for a size given
 * that Fargate does not run (a computed one that does not fit is told in `fargate`). Steps: the
 * command line and task size, the roles ({@link jobRoleArns}), the container
 * ({@link jobContainer}), then the ECS or Batch definition around it.
 */
export function jobSpec(o: JobSpecOptions): JobSpec {
  const env = o.env ?? ((name: string) => Deno.env.get(name));
  const { argv, target } = jobArgv(o.argv, o.repo, env);
  const role = jobRoles[argv[0]];
  const region = target.region;
  const disk = jobDisk(o.disk ?? {});
  if (o.size) checkFargateSize(o.size);
  const size = {
    ...o.size ?? jobSize(o.bytes ?? 0),
    ...disk.gib > FARGATE_DEFAULT_DISK_GIB ? { diskGiB: disk.gib } : {},
  };
  const fargate = fargateFit(size);
  const name = jobName(argv);
  const arns = jobRoleArns(o, role, target);
  const secret = secretRef(o.passwordSecret ?? defaultPasswordParameter, target, arns.account);
  const container = jobContainer({ ...o, account: arns.account }, argv, name, region, secret);
  const definition = o.kind === "ecs"
    ? ecsTaskDefinition(name, size, arns, container)
    : batchJobDefinition(name, size, arns, container);
  return {
    kind: o.kind,
    name,
    region,
    role,
    size,
    disk,
    fargate,
    argv,
    definition,
    taskPolicy: withStatements(
      identityPolicy(role, target.bucket, target.prefix, {
        partition: target.partition,
        versioned: o.versioned === true,
      }),
      restoreTargetStatements(argv, target.partition),
    ),
    executionPolicy: executionPolicy(container.image, secret, target, region, arns.account),
    trustPolicy: ecsTasksTrust(),
    taskRoleArn: arns.taskRoleArn,
    executionRoleArn: arns.executionRoleArn,
    passwordFrom: secret.valueFrom,
    missing: {
      taskRole: o.taskRoleArn === undefined,
      executionRole: o.executionRoleArn === undefined,
      image: o.image === undefined && o.source === undefined,
    },
  };
}

/** `policy` with `more` statements (a restore's S3 target: `restore_s3_target.ts`). */
function withStatements(policy: PolicyDocument, more: PolicyDocument["Statement"]): PolicyDocument {
  return more.length === 0 ? policy : { ...policy, Statement: [...policy.Statement, ...more] };
}
