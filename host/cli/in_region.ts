/**
 * `--in-region` (docs/in-region.md §7): instead of printing the job (`--emit-job`), a command
 * that offers it (`rebuild`, `gc compact`) launches its ECS Fargate task and follows it to the
 * end: it registers the task definition, runs it in `--cluster` (default `permafrost`, or
 * `PERMAFROST_JOB_CLUSTER`) on `--subnet` and `--security-group` (repeatable; or
 * `PERMAFROST_JOB_SUBNETS`, `PERMAFROST_JOB_SECURITY_GROUPS`, comma-separated), with
 * `--public-ip` when the subnet is public, prints each status change and the latest progress
 * line of the task's log (CloudWatch Logs, `host/ops/job_log.ts`), then the task's exit code,
 * the key numbers of its result document, how long it ran and its Fargate cost against the
 * estimate; the command's exit status is the task's. `--launch auto|fargate|ec2` (default
 * auto: EC2 when Fargate does not fit the job) and `--instance-profile` choose and configure an
 * EC2 instance instead (`in_region_ec2.ts`). The launcher's credentials are its own (an
 * admin's, the repository's profile); the task runs as `--job-role`.
 *
 * @module
 */

import type { Destination, Estimate } from "../cost/mod.ts";
import { ecsClient, launchJob, type LaunchNetwork } from "../ops/job_launch.ts";
import { jobLogGroup } from "../ops/job_definition.ts";
import {
  logsClient,
  newProgressLines,
  resultSummary,
  taskLog,
  taskLogStream,
} from "../ops/job_log.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import { type Context, UsageError } from "./context.ts";
import { cliJobSpec, type EmitJobOptions } from "./job_flags.ts";
import type { OptionTable } from "./options.ts";
import { shippedPriceTable } from "../cost/price_table.ts";
import { launchChoice, runOnEc2, runsOnEc2 } from "./in_region_ec2.ts";
import { approveCost } from "./confirm.ts";
import { homeVsRegion } from "../ops/home_vs_region.ts";

/** The options {@link runInRegion} reads (besides `jobOptions`' `--image`, `--job-role`). */
export const inRegionOptions = {
  "in-region": { type: "boolean" },
  cluster: { type: "string" },
  subnet: { type: "string", multiple: true },
  "security-group": { type: "string", multiple: true },
  "public-ip": { type: "boolean" },
  launch: { type: "string" },
  "instance-profile": { type: "string" },
} as const satisfies OptionTable;

/**
 * The cost gate before anything is launched (cost-model §10.4): the at-home and in-region
 * estimates are shown, `--budget` is checked against the in-region one, and over the
 * confirmation threshold `--yes` (or a yes at the terminal) is needed. The job itself checks
 * its `--budget` again when it plans.
 */
async function approveJob(
  ctx: Context,
  estimateAt: (to: Destination) => Estimate,
): Promise<void> {
  const compared = homeVsRegion(estimateAt);
  if (!ctx.json) { for (const line of compared.lines) console.error(line); }
  await approveCost(ctx, compared.region, {
    action: "this job in the region",
    shown: () => compared.lines.join("\n"),
    threshold: true,
  });
}

/** Seconds between DescribeTasks unless `--poll` says otherwise. */
export const IN_REGION_POLL_SECONDS = 30;

/**
 * Launches `argv` (the command line without `permafrost`) as an ECS task and follows it; the
 * exit status is the task's (1 when ECS reports none). A usage error for a missing network or
 * role, or anything `--emit-job` refuses.
 */
export async function runInRegion(
  ctx: Context,
  argv: string[],
  options: EmitJobOptions & { repo?: string; approved?: boolean } = {},
): Promise<number> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  // Read raw: a command may offer --in-region without --emit-job (restore).
  if (ctx.flags["emit-job"] !== undefined) {
    throw new UsageError("--in-region runs the job; --emit-job prints it: give one");
  }
  const choice = launchChoice(ctx);
  const spec = cliJobSpec(ctx, argv, "ecs", options);
  if (options.estimateAt && !options.approved) await approveJob(ctx, options.estimateAt);
  if (runsOnEc2(spec, choice)) {
    return await runOnEc2(ctx, {
      spec,
      target: parseS3Location(options.repo ?? ctx.repoLocation()!, env),
      env,
      pollSeconds: pollSeconds(ctx),
      estimate: options.estimateAt?.("region" as Destination),
    });
  }
  const network = networkFlags(ctx, env);
  if (spec.missing.taskRole || spec.missing.executionRole) {
    throw new UsageError(
      "--in-region needs the job's roles: --job-role ARN and PERMAFROST_JOB_EXECUTION_ROLE=ARN " +
        "(--emit-job ecs prints their policies and how to create them; docs/in-region.md §5)",
    );
  }
  const target = parseS3Location(options.repo ?? ctx.repoLocation()!, env);
  const ecs = await ecsClient(target, env);
  const logs = await logsClient(target, env);
  const estimate = options.estimateAt?.("region" as Destination);
  if (!ctx.json) {
    console.error(
      `launching ${spec.name} (${spec.size.vcpu} vCPU, ${spec.size.memoryGB} GB) in ` +
        `${spec.region}, cluster ${network.cluster}: permafrost ${spec.argv.join(" ")}`,
    );
    console.error(
      `its log: aws logs tail ${jobLogGroup} --region ${spec.region} ` +
        `--log-stream-name-prefix ${spec.name} --follow`,
    );
  }
  const outcome = await launchJob(ecs, spec, network, {
    table: estimate ? tableOf(estimate) : shippedPriceTable(spec.region),
    intervalSeconds: pollSeconds(ctx),
    onStarted: (taskArn) => {
      // Always on stderr, --json too: the task outlives an interrupted launcher.
      console.error(
        `task ${taskArn} started; stopping this command (Ctrl-C) leaves it running: stop it ` +
          `with aws ecs stop-task --cluster ${network.cluster} --task ${taskArn} ` +
          `--region ${spec.region}`,
      );
    },
    onStatus: (status, at) => {
      if (!ctx.json) console.error(`${at.toISOString()} task ${status}`);
    },
    log: (taskArn) => taskLog(logs, taskLogStream(spec.name, taskArn)),
    onLog: ctx.json ? undefined : newProgressLines((line) => console.error(line)),
    onLogError: (e) => {
      console.error(
        `reading the task's log failed (${e instanceof Error ? e.message : String(e)}): ` +
          "following the task without its progress",
      );
    },
  }).finally(() => {
    ecs.destroy();
    logs.destroy();
  });
  const compute = estimate ? fargateUsd(estimate) : undefined;
  ctx.print(
    {
      ...outcome,
      ...(estimate ? { estimate: { total_usd: estimate.total_usd, compute_usd: compute } } : {}),
    },
    () =>
      [
        `task ${outcome.taskArn} stopped` +
        (outcome.exitCode === undefined
          ? " with no exit code"
          : `: exit code ${outcome.exitCode}`) +
        (outcome.stoppedReason ? ` (${outcome.stoppedReason})` : ""),
        outcome.log.result
          ? `its result: ${resultSummary(outcome.log.result)}`
          : "its log held no result document",
        `ran ${(outcome.seconds / 3600).toFixed(2)} h: Fargate $${outcome.usd.toFixed(4)}` +
        (estimate
          ? ` (estimated: compute $${compute!.toFixed(4)}, the whole job in the region ` +
            `$${estimate.total_usd.toFixed(4)})`
          : ""),
      ].join("\n"),
  );
  return outcome.exitCode ?? 1;
}

/** `--poll`'s seconds, else {@link IN_REGION_POLL_SECONDS}. */
function pollSeconds(ctx: Context): number {
  const poll = ctx.string("poll");
  if (poll !== undefined && !/^[1-9][0-9]*$/.test(poll)) {
    throw new UsageError("--poll must be a whole number ≥ 1");
  }
  return poll === undefined ? IN_REGION_POLL_SECONDS : Number(poll);
}

/** The cluster and awsvpc network from the flags, else the environment. */
function networkFlags(ctx: Context, env: (name: string) => string | undefined): LaunchNetwork {
  const list = (flag: string, variable: string) => {
    const given = ctx.strings(flag);
    return given.length > 0
      ? given
      : (env(variable) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  };
  const subnets = list("subnet", "PERMAFROST_JOB_SUBNETS");
  if (subnets.length === 0) {
    throw new UsageError(
      "--in-region needs a subnet the task can reach S3 and its image from: --subnet ID " +
        "(or PERMAFROST_JOB_SUBNETS); docs/in-region.md §2",
    );
  }
  return {
    cluster: ctx.string("cluster") ?? (env("PERMAFROST_JOB_CLUSTER") || "permafrost"),
    subnets,
    securityGroups: list("security-group", "PERMAFROST_JOB_SECURITY_GROUPS"),
    publicIp: ctx.bool("public-ip"),
  };
}

/** The Fargate lines of an estimate: the job's compute. */
function fargateUsd(e: Estimate): number {
  return Math.round(
    e.items.filter((i) => i.what.startsWith("Fargate")).reduce((s, i) => s + i.usd, 0) * 1e6,
  ) / 1e6;
}

/** The table an estimate was priced with (its region's shipped table). */
function tableOf(e: Estimate) {
  return shippedPriceTable(e.prices.region);
}
