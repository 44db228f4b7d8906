/**
 * `restore --in-region` (docs/in-region.md §7, "Restores"): the restore into S3
 * (`--target s3://BUCKET/PREFIX/`, in the repository's region) runs as an ECS Fargate job next
 * to the data. The packs are thawed from here as for any restore (status 4 and the job to
 * resume while they thaw, or `--wait`, which waits here, unbilled); once every pack is
 * readable, the restore is priced both ways, approved here, and launched with `--yes`: the job
 * runs `restore SNAPSHOT:PATH --target s3://... --to region --yes`, and the launcher follows it
 * (`in_region.ts`).
 *
 * @module
 */

import { removeJob, type RestoreJob } from "../cold/restore_job.ts";
import { isS3Target, parseS3Target, type TargetClass } from "../ops/restore_s3_target.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import { priceRestore, type RestorePreview } from "../workflows/restore_estimate.ts";
import type { RepoPricing } from "../workflows/pricing.ts";
import { restoreHomeVsRegion } from "../workflows/restore_s3_estimate.ts";
import { approveCost } from "./confirm.ts";
import { type Context, UsageError } from "./context.ts";
import { runInRegion } from "./in_region.ts";

/**
 * Refuses an in-region restore that cannot run as a job, before anything is planned: the
 * repository and the target must be in S3, in the same region, and the target must name no
 * endpoint or profile (the job writes to AWS's S3 as its task role).
 */
export function checkInRegion(location: string, target: string | undefined): void {
  if (target === undefined || !isS3Target(target)) {
    throw new UsageError(
      "--in-region writes the restore into S3 next to the repository: give --target " +
        "s3://BUCKET/PREFIX/ (docs/in-region.md §7)",
    );
  }
  if (!location.startsWith("s3://")) {
    throw new UsageError(`--in-region needs a repository on S3, not "${location}"`);
  }
  const query = new URLSearchParams(target.split("?")[1] ?? "");
  for (const option of ["endpoint", "profile"]) {
    if (query.has(option)) {
      throw new UsageError(
        `the job writes to Amazon S3 as its task role: leave "${option}=" out of "${target}"`,
      );
    }
  }
  let repoRegion: string, targetRegion: string;
  try {
    repoRegion = parseS3Location(location).region;
    targetRegion = parseS3Target(target).region;
  } catch (err) {
    throw err instanceof TypeError ? new UsageError(err.message) : err;
  }
  if (repoRegion !== targetRegion) {
    throw new UsageError(
      `the target "${target}" is in ${targetRegion}, the repository in ${repoRegion}: an ` +
        "in-region restore writes in the repository's region (add ?region= to the target if " +
        "its bucket is there)",
    );
  }
}

/** What {@link launchRestore} launches. */
export interface InRegionRestore {
  location: string;
  target: string;
  targetClass: TargetClass;
  tier: RestoreTier;
  days: number;
  /** The restore job that thawed the packs, removed once the launched job succeeds. */
  job?: RestoreJob;
}

/**
 * Prices the restore at home (into a folder: egress) and in the region (the job, its PUTs and
 * a month of the objects), asks for approval here, then launches the restore as a job and
 * follows it. Resolves the job's exit status.
 */
export async function launchRestore(
  ctx: Context,
  preview: RestorePreview,
  pricing: RepoPricing,
  r: InRegionRestore,
): Promise<number> {
  const { plan } = preview;
  const compared = restoreHomeVsRegion(
    (to) => priceRestore(preview, pricing, { tier: r.tier, days: r.days, to }).chosen.estimate,
    plan,
    r.targetClass,
    pricing,
  );
  if (!ctx.json) { for (const line of compared.lines) console.error(line); }
  await approveCost(ctx, compared.region, {
    action: "this restore in the region",
    shown: () => compared.lines.join("\n"),
    threshold: true,
  });
  const budget = ctx.string("budget");
  const argv = [
    "restore",
    `${plan.snapshot}:${plan.path}`,
    "--target",
    r.target,
    ...(r.targetClass === "STANDARD" ? [] : ["--target-class", r.targetClass]),
    "--to",
    "region",
    "--yes",
    ...(budget === undefined ? [] : ["--budget", budget]),
    "--repo",
    r.location,
  ];
  const code = await runInRegion(ctx, argv, {
    bytes: plan.readBytes + plan.bytes,
    estimateAt: compared.regionAt,
    repo: r.location,
    approved: true, // above, with the target's writes priced
  });
  if (code === 0 && r.job) removeJob(r.job.id);
  return code;
}
