/**
 * `restore`'s S3 Batch Operations flags (docs/s3.md §7): `--batch` / `--no-batch` (always /
 * never; default: the cheaper above the threshold), `--batch-threshold N` (default
 * `BATCH_THRESHOLD`), `--batch-role ARN` (or `PERMAFROST_BATCH_ROLE`: the role Batch Operations
 * assumes). {@link restoreMethods} prices both ways for `--estimate`; {@link batchThaw} gives
 * the workflow the requester of a restore that goes (or went) through a job.
 *
 * @module
 */

import {
  type BatchRecord,
  batchRequester,
  roleAccount,
  startBatchRestore,
} from "../cold/batch_restore.ts";
import { newJobId } from "../cold/restore_job.ts";
import { s3ControlJobs } from "../s3/s3_control.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import {
  BATCH_THRESHOLD,
  chooseRestoreMethod,
  type MethodChoice,
} from "../workflows/batch_choice.ts";
import type { RestoreEstimate, RestorePreview } from "../workflows/restore_estimate.ts";
import { type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

export const batchOptions = {
  batch: { type: "boolean" },
  "no-batch": { type: "boolean" },
  "batch-threshold": { type: "string" },
  "batch-role": { type: "string" },
} as const satisfies OptionTable;

/** The flags, parsed. */
export interface BatchFlags {
  /** True: `--batch`; false: `--no-batch`; undefined: the cheaper. */
  batch?: boolean;
  threshold: number;
  roleArn?: string;
}

export function batchFlags(ctx: Context): BatchFlags {
  if (ctx.bool("batch") && ctx.bool("no-batch")) {
    throw new UsageError("--batch and --no-batch contradict each other: give one");
  }
  const t = ctx.string("batch-threshold");
  if (t !== undefined && !/^(0|[1-9][0-9]*)$/.test(t)) {
    throw new UsageError(`--batch-threshold must be a whole number of packs, not "${t}"`);
  }
  return {
    batch: ctx.bool("batch") ? true : ctx.bool("no-batch") ? false : undefined,
    threshold: t === undefined ? BATCH_THRESHOLD : Number(t),
    roleArn: ctx.string("batch-role") ?? (Deno.env.get("PERMAFROST_BATCH_ROLE") || undefined),
  };
}

/**
 * Both ways of requesting `e`'s restore, for the packs it would request: undefined when it
 * requests none (everything readable or already being restored).
 */
export function restoreMethods(
  preview: RestorePreview,
  e: RestoreEstimate,
  flags: BatchFlags,
): MethodChoice | undefined {
  const objects = e.pricing.asIfS3
    ? preview.coldPacks.length
    : preview.states.filter((s) => s.availability.state === "archived").length;
  if (objects === 0) return undefined;
  return chooseRestoreMethod(e.chosen.estimate, objects, e.pricing.table, flags);
}

/**
 * The requester of a restore through a Batch Operations job: a resumed job's (`existing`), or
 * a new one when `methods` chose batch. Undefined: per-object requests (also for a resumed
 * batch job under `--no-batch`). A usage error for a
 * batch on a repository not on S3, or without a role.
 */
export function batchThaw(
  ctx: Context,
  o: {
    location: string;
    storage: Storage;
    methods?: MethodChoice;
    existing?: BatchRecord;
    tier: RestoreTier;
    days: number;
  },
) {
  if (o.existing === undefined && o.methods?.chosen !== "batch") return undefined;
  // `--no-batch` on a resumed batch job: per-object requests for what is still archived (a
  // job S3 Control no longer describes, or one the user gave up on).
  if (batchFlags(ctx).batch === false) return undefined;
  if (!o.location.startsWith("s3://")) {
    throw new UsageError(`a batch restore needs a repository on S3, not "${o.location}"`);
  }
  const where = parseS3Location(o.location);
  const roleArn = o.existing?.roleArn ?? batchFlags(ctx).roleArn;
  if (roleArn === undefined) {
    throw new UsageError(
      "a batch restore needs the role S3 Batch Operations assumes: --batch-role ARN or " +
        "PERMAFROST_BATCH_ROLE (docs/s3.md §7); or restore with --no-batch",
    );
  }
  try {
    roleAccount(roleArn);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (o.existing === undefined && o.tier === "expedited") {
    throw new UsageError(
      "S3 Batch Operations restores at the standard or bulk tier only: use --tier standard or " +
        "--tier bulk, or --no-batch",
    );
  }
  const jobs = s3ControlJobs(where);
  const target = {
    bucket: where.bucket,
    keyPrefix: where.keyPrefix,
    partition: where.partition,
    region: where.region,
    roleArn,
  };
  return batchRequester(o.storage, jobs, {
    existing: o.existing,
    start: (names) =>
      startBatchRestore(o.storage, jobs, target, names, {
        tier: o.tier,
        days: o.days,
        token: newJobId(),
      }).catch((err) => {
        throw new Error(
          `the S3 Batch Operations restore could not start (${
            err instanceof Error ? err.message : err
          }); no pack was requested: run the restore again, or with --no-batch`,
        );
      }),
    onStatus: (r, s) => {
      if (ctx.json) return;
      const progress = s.total === undefined
        ? ""
        : `: ${s.succeeded ?? 0} of ${s.total} requested, ${s.failed ?? 0} failed`;
      console.error(`batch job ${r.jobId} (${r.objects} packs): ${s.status}${progress}`);
      for (const reason of s.reasons ?? []) console.error(`  ${reason}`);
    },
  });
}
