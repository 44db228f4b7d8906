/**
 * Restore, second half: from a planned restore (`restore_estimate.ts`) to files on disk. When
 * every pack is readable it restores; otherwise it checks the tier, asks the caller's `approve`
 * (the cost gate, when the store bills), requests restores of the archived packs, records a
 * job, and either waits (when given `wait`) or returns `waiting` with the job, which a later
 * call resumes (the requests are idempotent). docs/s3.md, "Restore workflow".
 *
 * @module
 */

import { resolve } from "node:path";
import type { PackState } from "../cold/pack_survey.ts";
import { jobsDir, newJobId, removeJob, type RestoreJob, saveJob } from "../cold/restore_job.ts";
import { fasterTier } from "../cold/restore_requests.ts";
import type { Destination } from "../cost/mod.ts";
import { executeRestore, type RestoreResult } from "../ops/restore.ts";
import { executeS3Restore } from "../ops/restore_s3_upload.ts";
import { isS3Target, type TargetClass } from "../ops/restore_s3_target.ts";
import type { OnProgress } from "../ops/progress.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";
import type { RepoPricing } from "./pricing.ts";
import {
  needsThaw,
  priceRestore,
  type RestoreEstimate,
  type RestorePreview,
} from "./restore_estimate.ts";
import { checkTierOffered, type ThawOptions, thawPacks, type ThawWait } from "./thaw.ts";

export { checkTierOffered, TierNotOffered } from "./thaw.ts";

/** Options of {@link runRestore}. */
export interface RunRestoreOptions {
  pricing: RepoPricing;
  tier: RestoreTier;
  /** Days restored copies are kept. */
  days: number;
  /** Where the data goes, for the price the gate sees; default internet. */
  to?: Destination;
  /**
   * A fresh restore: the folder to restore into, or an S3 prefix (`s3://BUCKET/PREFIX`,
   * `host/ops/restore_s3_target.ts`), and the location its job records.
   */
  target?: string;
  /** A fresh restore into S3: the objects' storage class (default STANDARD). */
  targetClass?: TargetClass;
  location: string;
  /** A resumed restore: its job (which has the target). */
  job?: RestoreJob;
  /**
   * The cost gate: called with the estimate before anything is requested or read, for a fresh
   * restore or a resumed one that must ask again, on a store that bills. False (or a throw)
   * stops the restore with nothing spent.
   */
  approve?: (estimate: RestoreEstimate) => Promise<boolean>;
  /** Told what was requested, before any waiting. */
  onRequested?: (requested: { job: RestoreJob; sent: number }) => void;
  /** Wait for the thaw, surveying every `intervalSeconds`; absent: return `waiting`. */
  wait?: ThawWait;
  /** Sends the restore requests instead of one per pack (host/cold/batch_restore.ts). */
  request?: ThawOptions["request"];
  /**
   * Stop once every pack is readable, writing nothing, and return `readable`: the restore
   * itself runs elsewhere (`restore --in-region` launches it as a job).
   */
  stopWhenReadable?: boolean;
  /** The restore's progress once it writes (`executeRestore`), not while packs thaw. */
  onProgress?: OnProgress;
  onWarning?: (message: string) => void;
  /** Where jobs are kept (default `jobsDir()`); the clock jobs are stamped with. */
  jobs?: { dir?: string; now?: () => Date };
}

/** How {@link runRestore} ended. */
export type RestoreOutcome =
  | { status: "restored"; result: RestoreResult; states: PackState[]; job?: RestoreJob }
  | { status: "waiting"; job: RestoreJob; sent: number }
  | { status: "readable"; states: PackState[]; job?: RestoreJob }
  | { status: "declined"; estimate: RestoreEstimate };

/** Carries out `preview` (see the module doc). */
export async function runRestore(
  repo: Repository,
  preview: RestorePreview,
  options: RunRestoreOptions,
): Promise<RestoreOutcome> {
  const { tier, days } = options;
  if (!options.job && options.target === undefined) {
    throw new InvalidRequest("a restore needs a target folder");
  }
  const mustRequest = needsThaw(preview);
  if (mustRequest) checkTierOffered(preview.states, tier);
  if (!options.pricing.asIfS3 && (options.job === undefined || mustRequest) && options.approve) {
    const estimate = priceRestore(preview, options.pricing, { tier, days, to: options.to });
    if (!await options.approve(estimate)) return { status: "declined", estimate };
  }
  let job = options.job;
  let states = preview.states;
  if (mustRequest) {
    const upgrade = job !== undefined && fasterTier(tier, job.tier);
    let recorded: RestoreJob | undefined;
    const thawed = await thawPacks(repo.storage, states, {
      tier,
      days,
      upgrade,
      wait: options.wait,
      request: options.request,
      onRequested: (sent) => {
        recorded = recordJob(preview, options, sent);
        options.onRequested?.({ job: recorded, sent });
      },
    });
    job = recorded!;
    if (thawed.status === "waiting") return { status: "waiting", job, sent: thawed.sent };
    states = thawed.states;
  }
  if (options.stopWhenReadable) return { status: "readable", states, ...(job ? { job } : {}) };
  const target = options.target !== undefined ? options.target : job!.target;
  const result = isS3Target(target)
    ? await executeS3Restore(repo, preview.plan, {
      target,
      storageClass: options.targetClass ?? job?.targetClass as TargetClass | undefined,
      onProgress: options.onProgress,
    })
    : await executeRestore(repo, preview.plan, {
      target,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
    });
  if (job) removeJob(job.id, options.jobs?.dir ?? jobsDir());
  return { status: "restored", result, states, ...(job ? { job } : {}) };
}

/** The job of a restore that requested packs: made for a fresh one, updated for a resumed one. */
function recordJob(preview: RestorePreview, options: RunRestoreOptions, sent: number): RestoreJob {
  const { tier, days } = options;
  const now = (options.jobs?.now?.() ?? new Date()).toISOString();
  const job: RestoreJob = options.job ?? {
    version: 1,
    id: newJobId(),
    repo: options.location,
    snapshot: preview.plan.snapshot,
    path: preview.plan.path,
    target: isS3Target(options.target!) ? options.target! : resolve(options.target!),
    ...(options.targetClass ? { targetClass: options.targetClass } : {}),
    tier,
    days,
    packs: preview.coldPacks,
    requestedAt: now,
    requests: [],
  };
  job.packs = preview.coldPacks;
  // The job's tier is the one its packs were last asked for at: a resume that asks for none
  // (every pack already being restored) leaves it, or going back to it would count as an upgrade
  // and ask, and pay, again for every pack.
  if (sent > 0) {
    job.tier = tier;
    job.days = days;
    job.requests.push({ at: now, tier, packs: sent });
  }
  saveJob(job, options.jobs?.dir ?? jobsDir());
  return job;
}
