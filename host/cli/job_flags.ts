/**
 * `--emit-job ecs|batch` (with `--image IMAGE` and `--job-role ARN`): instead of running, a
 * command prints the in-region job that would run it (docs/in-region.md). Commands that offer
 * it (`gc compact`, `rebuild`) call {@link emitJobSpec} and return its exit status:
 *
 * ```ts
 * if (ctx.string("emit-job")) {
 *   return emitJobSpec(ctx, commandLine("gc", ctx), {
 *     bytes: plan.readBytes + plan.liveBytes,
 *     estimateAt: (to) => estimateCompact(plan.packs, table, { to }),
 *   });
 * }
 * ```
 *
 * The definition's JSON goes to stdout alone (so `> job.json` saves it); what to do with it
 * (the roles, the secret, the `aws` commands to register and run it) goes to stderr. With
 * `--json`, stdout carries one object with all of it.
 *
 * Besides the flags, the environment: `PERMAFROST_JOB_EXECUTION_ROLE` (the execution role's
 * ARN), `PERMAFROST_JOB_PASSWORD_SECRET` (an SSM parameter name or ARN, or a Secrets Manager
 * ARN; default `/permafrost/password`), `PERMAFROST_JOB_SOURCE` and
 * `PERMAFROST_JOB_SOURCE_SHA256` (the source tarball the default image runs).
 *
 * @module
 */

import type { Destination, Estimate } from "../cost/mod.ts";
import { homeVsRegion } from "../ops/home_vs_region.ts";
import { jobLogGroup } from "../ops/job_definition.ts";
import { defaultPasswordParameter } from "../ops/job_iam.ts";
import { type JobKind, jobKinds, type JobSpec, jobSpec } from "../ops/job_spec.ts";
import type { DiskNeeds } from "../ops/job_size.ts";
import { type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

/** The options {@link emitJobSpec} reads, for the tables of the commands that offer it. */
export const jobOptions = {
  "emit-job": { type: "string" },
  image: { type: "string" },
  "job-role": { type: "string" },
} as const satisfies OptionTable;

export interface EmitJobOptions {
  /** Bytes the job reads and writes: sizes the task (`jobSize`). */
  bytes?: number;
  /** What the job keeps on disk (`jobDisk`): the ephemeral storage of its task. */
  disk?: DiskNeeds;
  /** The operation's estimate for a destination: adds the at-home/in-the-region lines. */
  estimateAt?: (to: Destination) => Estimate;
  /** The bucket keeps versions: the admin task role may delete versions too. */
  versioned?: boolean;
  /** Environment lookup (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

/**
 * Prints the job spec for `argv` (the command line without `permafrost`, e.g. from
 * {@link commandLine}) as `--emit-job` asks, and returns 0. A usage error (exit status 2) for
 * an unknown kind, a command that cannot be a job, a repository not on S3, a key file, or a
 * malformed role or secret ARN.
 */
export function emitJobSpec(ctx: Context, argv: string[], options: EmitJobOptions = {}): number {
  const kind = ctx.string("emit-job");
  if (!jobKinds.includes(kind as JobKind)) {
    throw new UsageError(`--emit-job is one of ${jobKinds.join(", ")}, not "${kind ?? ""}"`);
  }
  const spec = cliJobSpec(ctx, argv, kind as JobKind, options);
  if (!spec.fargate.fits) {
    throw new UsageError(
      `Fargate cannot run "${spec.name}": ${spec.fargate.reason}; run it on an EC2 instance ` +
        "with --in-region --launch ec2 (docs/in-region.md §4)",
    );
  }
  const comparison = options.estimateAt ? homeVsRegion(options.estimateAt).lines : undefined;
  const text = jobInstructions(spec, { comparison });
  if (ctx.json) {
    console.log(JSON.stringify({ ...spec, commands: text.commands, notes: text.notes }, null, 2));
  } else {
    console.log(JSON.stringify(spec.definition, null, 2));
    console.error(text.human);
  }
  return 0;
}

/**
 * The job spec of `argv` from the command's flags (`--image`, `--job-role`) and the
 * environment (see the module doc); the spec's refusals as usage errors.
 */
export function cliJobSpec(
  ctx: Context,
  argv: string[],
  kind: JobKind,
  options: EmitJobOptions = {},
): JobSpec {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  let spec: JobSpec;
  try {
    const source = env("PERMAFROST_JOB_SOURCE");
    const sha256 = env("PERMAFROST_JOB_SOURCE_SHA256");
    spec = jobSpec({
      kind,
      argv,
      repo: ctx.repoLocation(),
      image: ctx.string("image"),
      source: source ? { url: source, ...(sha256 ? { sha256 } : {}) } : undefined,
      taskRoleArn: ctx.string("job-role"),
      executionRoleArn: env("PERMAFROST_JOB_EXECUTION_ROLE") || undefined,
      passwordSecret: env("PERMAFROST_JOB_PASSWORD_SECRET") || undefined,
      bytes: options.bytes,
      disk: options.disk,
      versioned: options.versioned,
      env,
    });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  return spec;
}

/**
 * The command line of the running command, to hand to {@link emitJobSpec}: `verb`, the
 * positionals, then every flag given (repeated flags repeated; `--emit-job`, `--image` and
 * `--job-role` are dropped later by `jobArgv`).
 */
export function commandLine(verb: string, ctx: Context): string[] {
  const out = [verb, ...ctx.positionals];
  for (const [name, value] of Object.entries(ctx.flags)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === true) out.push(`--${name}`);
      else if (typeof v === "string") out.push(`--${name}`, v);
    }
  }
  return out;
}

/** What to do with a spec: the `aws` commands, notes, and both as text for people. */
export function jobInstructions(
  spec: JobSpec,
  o: { comparison?: string[] } = {},
): { commands: string[]; notes: string[]; human: string } {
  const toCreate = rolesToCreate(spec);
  const commands = awsCommands(spec, toCreate);
  const notes = jobNotes(spec, toCreate);
  return { commands, notes, human: humanInstructions(spec, toCreate, commands, notes, o) };
}

/** A role the spec names by placeholder: its name, what it is, and its policy. */
type RoleToCreate = [name: string, what: string, policy: unknown];

/** The roles that were not given (the task role, the execution role), to create. */
function rolesToCreate(spec: JobSpec): RoleToCreate[] {
  const roleName = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);
  const toCreate: RoleToCreate[] = [];
  if (spec.missing.taskRole) {
    toCreate.push([roleName(spec.taskRoleArn), `the ${spec.role} role`, spec.taskPolicy]);
  }
  if (spec.missing.executionRole) {
    toCreate.push([roleName(spec.executionRoleArn), "the execution role", spec.executionPolicy]);
  }
  return toCreate;
}

/**
 * The `aws` commands, in order: create the roles to create, set up the ECS cluster or the Batch
 * compute environment and queue, register the definition, run it, and follow its logs.
 */
function awsCommands(spec: JobSpec, toCreate: RoleToCreate[]): string[] {
  const r = `--region ${spec.region}`;
  const file = `${spec.name}.json`;
  const commands: string[] = [];
  for (const [role] of toCreate) {
    commands.push(
      `aws iam create-role --role-name ${role} ` +
        "--assume-role-policy-document file://ecs-tasks-trust.json",
      `aws iam put-role-policy --role-name ${role} --policy-name ${role} ` +
        `--policy-document file://${role}-policy.json`,
    );
  }
  const network = "subnets=[SUBNET_ID],securityGroups=[SECURITY_GROUP_ID],assignPublicIp=ENABLED";
  if (spec.kind === "ecs") {
    commands.push(
      `aws ecs create-cluster ${r} --cluster-name permafrost`,
      `aws ecs register-task-definition ${r} --cli-input-json file://${file}`,
      `aws ecs run-task ${r} --cluster permafrost --launch-type FARGATE ` +
        `--task-definition ${spec.name} --network-configuration 'awsvpcConfiguration={${network}}'`,
    );
  } else {
    commands.push(
      `aws batch create-compute-environment ${r} --compute-environment-name permafrost ` +
        `--type MANAGED --compute-resources 'type=FARGATE,maxvCpus=${
          Math.max(16, spec.size.vcpu)
        },subnets=[SUBNET_ID],securityGroupIds=[SECURITY_GROUP_ID]'`,
      `aws batch create-job-queue ${r} --job-queue-name permafrost --priority 1 ` +
        "--compute-environment-order order=1,computeEnvironment=permafrost",
      `aws batch register-job-definition ${r} --cli-input-json file://${file}`,
      `aws batch submit-job ${r} --job-name ${spec.name} --job-queue permafrost ` +
        `--job-definition ${spec.name}`,
    );
  }
  commands.push(`aws logs tail ${jobLogGroup} ${r} --follow`);
  return commands;
}

/**
 * What else to know or do: `--yes` missing, the roles to create, the source the default image
 * needs, where the passphrase comes from, and when to start the job.
 */
function jobNotes(spec: JobSpec, toCreate: RoleToCreate[]): string[] {
  const notes: string[] = [];
  if (!spec.argv.includes("--yes")) {
    notes.push(
      "the job has no terminal to confirm at: add --yes (and --budget USD to cap it), " +
        "or it stops at the confirmation",
    );
  }
  if (toCreate.length > 0) {
    notes.push(
      `create ${toCreate.map(([role]) => role).join(" and ")} (the policies above), ` +
        "then emit again with --job-role ARN" +
        (spec.missing.executionRole ? " and PERMAFROST_JOB_EXECUTION_ROLE=ARN" : ""),
    );
  }
  if (spec.missing.image) {
    const image = (spec.definition.containerDefinitions as { image: string }[] | undefined)?.[0]
      ?.image ?? (spec.definition.containerProperties as { image: string } | undefined)?.image;
    notes.push(
      `the job runs the image ${image}: build it from this repository's Dockerfile ` +
        "(deno task compile inside) and push it there, or pass --image (docs/in-region.md §3)",
    );
  }
  notes.push(
    `the passphrase comes from "${spec.passwordFrom}"` +
      (spec.passwordFrom === defaultPasswordParameter
        ? `; create it once: aws ssm put-parameter --region ${spec.region} ` +
          `--name ${defaultPasswordParameter} ` +
          "--type SecureString --value file://passphrase.txt (the whole file, no newline)"
        : ""),
    "start the job once its packs are restored: a task that waits for a restore is billed " +
      "for the wait (docs/in-region.md §6)",
  );
  return notes;
}

/**
 * The text for people (stderr): what the job is, the comparison, the policies of the roles to
 * create with the trust policy, the commands, and the notes, all but the commands as comments.
 */
function humanInstructions(
  spec: JobSpec,
  toCreate: RoleToCreate[],
  commands: string[],
  notes: string[],
  o: { comparison?: string[] },
): string {
  const json = (title: string, doc: unknown) => [`# ${title}`, JSON.stringify(doc, null, 2)];
  const what = spec.kind === "ecs" ? "an ECS Fargate task" : "an AWS Batch job on Fargate";
  return [
    `# ${spec.name}: ${what} (${spec.size.vcpu} vCPU, ${spec.size.memoryGB} GB) ` +
    `in ${spec.region}, running`,
    `#   permafrost ${spec.argv.join(" ")}`,
    `# The ${spec.kind === "ecs" ? "task" : "job"} definition is on stdout: ` +
    `save it as ${spec.name}.json.`,
    ...(o.comparison ? ["#", ...o.comparison.map((l) => `# ${l}`)] : []),
    ...toCreate.flatMap(([role, what, policy]) =>
      json(`${role}-policy.json: the policy of ${what}`, policy)
    ),
    ...(toCreate.length > 0
      ? json("ecs-tasks-trust.json: both roles are assumed by ECS tasks", spec.trustPolicy)
      : []),
    "# Commands (docs/in-region.md §2):",
    ...commands,
    ...notes.map((n) => `# note: ${n}`),
  ].join("\n");
}
