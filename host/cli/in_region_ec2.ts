/**
 * `--in-region --launch ec2` (docs/in-region.md §7): the job on one EC2 instance
 * (host/ops/job_launch_ec2.ts), chosen when asked or, with `--launch auto` (the default), when
 * Fargate does not fit the job (`fargateFit`, host/ops/job_size.ts). The instance runs as
 * `--instance-profile` (else `PERMAFROST_JOB_INSTANCE_PROFILE`), in `--subnet` (the first; else
 * the default VPC's) with `--security-group` and `--public-ip`. It prints the instance's id and
 * the command that terminates it, each state change and progress line, then the exit code, the
 * result's numbers, how long it ran and its EC2 and EBS cost against the estimate.
 *
 * @module
 */

import type { Estimate } from "../cost/mod.ts";
import { chooseInstance, ec2Items, type Ec2Prices, ec2Prices } from "../cost/ec2_job.ts";
import { jobLogGroup } from "../ops/job_definition.ts";
import { ec2Client, launchEc2Job, rootVolumeGiB } from "../ops/job_launch_ec2.ts";
import { logsClient, newProgressLines, resultSummary, taskLog } from "../ops/job_log.ts";
import type { JobSpec } from "../ops/job_spec.ts";
import type { S3Target } from "../storage/s3_location.ts";
import { type Context, UsageError } from "./context.ts";

/** Where `--in-region` runs the job: `auto` (Fargate when it fits), `fargate` or `ec2`. */
export type LaunchChoice = "auto" | "fargate" | "ec2";

/** `--launch`, checked; `auto` when not given. */
export function launchChoice(ctx: Context): LaunchChoice {
  const given = ctx.string("launch") ?? "auto";
  if (given !== "auto" && given !== "fargate" && given !== "ec2") {
    throw new UsageError(`--launch is auto, fargate or ec2, not "${given}"`);
  }
  return given;
}

/**
 * A usage error for `--launch` or `--instance-profile` without `--in-region`: they choose where
 * the launched job runs, and without it the command would run here (or print a Fargate job)
 * as if they had not been given.
 */
export function refuseLaunchFlags(ctx: Context): void {
  if (ctx.bool("in-region")) return;
  const given = ["launch", "instance-profile"].filter((f) => ctx.string(f) !== undefined);
  if (given.length === 0) return;
  throw new UsageError(
    `${given.map((f) => `--${f}`).join(" and ")} choose where --in-region runs the job; ` +
      "add --in-region, or leave them out to run the command here",
  );
}

/** Whether `spec` runs on EC2 for `choice`; a usage error for Fargate where it does not fit. */
export function runsOnEc2(spec: JobSpec, choice: LaunchChoice): boolean {
  if (spec.fargate.fits) return choice === "ec2";
  if (choice === "fargate") {
    throw new UsageError(
      `Fargate cannot run "${spec.name}": ${spec.fargate.reason}; use --launch ec2 (or auto)`,
    );
  }
  return true;
}

/** What {@link runOnEc2} needs besides the context. */
export interface Ec2Run {
  spec: JobSpec;
  target: S3Target;
  env: (name: string) => string | undefined;
  pollSeconds: number;
  estimate?: Estimate;
}

/** Launches `spec` on EC2 and follows it; the exit status is the job's (1 when none is told). */
export async function runOnEc2(ctx: Context, r: Ec2Run): Promise<number> {
  const { spec, env } = r;
  const instanceProfile = ctx.string("instance-profile") ||
    env("PERMAFROST_JOB_INSTANCE_PROFILE") || undefined;
  if (instanceProfile === undefined) {
    throw new UsageError(
      "--launch ec2 needs the instance's profile: --instance-profile NAME (or " +
        "PERMAFROST_JOB_INSTANCE_PROFILE), whose role has the task role's and the execution " +
        "role's policies and trusts ec2.amazonaws.com (docs/in-region.md §7)",
    );
  }
  if (spec.missing.image && spec.missing.taskRole) {
    throw new UsageError(
      "--launch ec2 needs the image's account: --job-role ARN (its account's ECR holds the " +
        "image, docs/in-region.md §3) or --image IMAGE",
    );
  }
  let prices: Ec2Prices;
  try {
    prices = ec2Prices(spec.region);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const instance = chooseInstance(spec.size, prices);
  const volumeGiB = rootVolumeGiB(spec.disk.gib);
  const subnets = ctx.strings("subnet").length > 0
    ? ctx.strings("subnet")
    : (env("PERMAFROST_JOB_SUBNETS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const groups = ctx.strings("security-group").length > 0
    ? ctx.strings("security-group")
    : (env("PERMAFROST_JOB_SECURITY_GROUPS") ?? "").split(",").map((s) => s.trim())
      .filter(Boolean);
  const ec2 = await ec2Client(r.target, env);
  const logs = await logsClient(r.target, env);
  if (!ctx.json) {
    console.error(
      `launching ${spec.name} on EC2 ${instance.type} (${instance.vcpu} vCPU, ` +
        `${instance.memoryGiB} GiB; ${volumeGiB} GiB gp3) in ${spec.region}` +
        (spec.fargate.fits ? "" : ` (Fargate does not fit: ${spec.fargate.reason})`) +
        `: permafrost ${spec.argv.join(" ")}`,
    );
  }
  const outcome = await launchEc2Job(ec2, spec, {
    ...(subnets[0] ? { subnet: subnets[0] } : {}),
    securityGroups: groups,
    publicIp: ctx.bool("public-ip"),
    instanceProfile,
    instance,
    volumeGiB,
  }, {
    prices,
    intervalSeconds: r.pollSeconds,
    onStarted: (id) => {
      // Always on stderr, --json too: the instance outlives an interrupted launcher.
      console.error(
        `instance ${id} started; stopping this command (Ctrl-C) leaves it running: terminate ` +
          `it with aws ec2 terminate-instances --instance-ids ${id} --region ${spec.region}; ` +
          `its log: aws logs tail ${jobLogGroup} --region ${spec.region} ` +
          `--log-stream-names ${spec.name}/permafrost/${id} --follow`,
      );
    },
    onState: (state, at) => {
      if (!ctx.json) console.error(`${at.toISOString()} instance ${state}`);
    },
    log: (stream) => taskLog(logs, stream),
    onLog: ctx.json ? undefined : newProgressLines((line) => console.error(line)),
    onLogError: (e) => {
      console.error(
        `reading the instance's log failed (${e instanceof Error ? e.message : String(e)}): ` +
          "following the instance without its progress or exit code",
      );
    },
  }).finally(() => {
    ec2.destroy();
    logs.destroy();
  });
  const e = r.estimate;
  const compute = e ? computeUsd(e) : undefined;
  // The estimate's hours on this instance and its root volume (billed as the run is, 60 s at
  // least): what the job was expected to cost here.
  const expected = e
    ? [e.hours.min, e.hours.max].map((h) =>
      Math.round(
        ec2Items(instance, volumeGiB, h * 3600, prices).reduce((sum, i) => sum + i.usd, 0) * 1e4,
      ) / 1e4
    )
    : undefined;
  ctx.print(
    {
      launch: "ec2",
      ...outcome,
      ...(e
        ? {
          estimate: {
            total_usd: e.total_usd,
            compute_usd: compute,
            ec2_usd: { min: expected![0], max: expected![1] },
          },
        }
        : {}),
    },
    () =>
      [
        `instance ${outcome.instanceId} terminated` +
        (outcome.exitCode === undefined
          ? ": its log told no exit code"
          : `: exit code ${outcome.exitCode}`) +
        (outcome.stateReason ? ` (${outcome.stateReason})` : ""),
        outcome.log.result
          ? `its result: ${resultSummary(outcome.log.result)}`
          : "its log held no result document",
        `ran ${(outcome.seconds / 3600).toFixed(2)} h: EC2 ${instance.type} and EBS ` +
        `$${outcome.usd.toFixed(4)}` +
        (e
          ? ` (estimated: $${expected![0].toFixed(4)} to $${expected![1].toFixed(4)} on ` +
            `${instance.type} with its volume for ${e.hours.min.toFixed(2)} to ${
              e.hours.max.toFixed(2)
            } h, ` +
            `the compute at Fargate prices $${compute!.toFixed(4)}, the whole job in the region ` +
            `$${e.total_usd.toFixed(4)})`
          : ""),
      ].join("\n"),
  );
  return outcome.exitCode ?? 1;
}

/** The Fargate lines of an estimate: the job's compute as the cost model prices it. */
function computeUsd(e: Estimate): number {
  return Math.round(
    e.items.filter((i) => i.what.startsWith("Fargate")).reduce((s, i) => s + i.usd, 0) * 1e6,
  ) / 1e6;
}
