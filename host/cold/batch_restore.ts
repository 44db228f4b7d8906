/**
 * Restoring many packs with one S3 Batch Operations job instead of a RestoreObject request per
 * pack (docs/s3.md §7, docs/cost-model.md §4.6). {@link startBatchRestore} writes the manifest
 * (create-only, STANDARD, at {@link batchManifestName}) and creates the job (operation
 * `S3InitiateRestoreObject` with the tier and days, no completion report); the restore job
 * records what it returns ({@link BatchRecord}), and {@link batchRequester} stands in for the
 * per-object requests of the thaw step while that Batch Operations job runs: it asks S3 Control
 * how the job is doing, requests nothing for the archived packs the job still owns, and once the
 * job has ended (complete, failed or cancelled) falls back to per-object requests for any pack
 * still archived, so nothing the job missed is left behind.
 *
 * S3 Control is reached through {@link BatchJobs}, a seam of two calls: `host/s3/s3_control.ts`
 * implements it with the AWS SDK; moto does not implement CreateJob or DescribeJob, so tests
 * give a double at exactly that seam.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import { type Manifest, restoreManifest } from "./batch_manifest.ts";
import type { PackState } from "./pack_survey.ts";
import { requestThaw } from "./restore_requests.ts";

/** Where a batch restore's manifest is written, under the repository's prefix. */
export const BATCH_MANIFEST_PREFIX = "restore-batches/";

/** The manifest's object name for the batch with token `token` (12 hex digits). */
export function batchManifestName(token: string): string {
  if (!/^[0-9a-f]{12}$/.test(token)) throw new TypeError(`batch token "${token}" is not 12 hex`);
  return `${BATCH_MANIFEST_PREFIX}${token}.csv`;
}

/** What CreateJob is asked (the SDK's `CreateJobCommandInput`, fields Permafrost sets). */
export interface BatchRestoreRequest {
  AccountId: string;
  ClientRequestToken: string;
  ConfirmationRequired: false;
  Description: string;
  Priority: number;
  RoleArn: string;
  Operation: {
    S3InitiateRestoreObject: { ExpirationInDays: number; GlacierJobTier: "BULK" | "STANDARD" };
  };
  Manifest: {
    Spec: { Format: "S3BatchOperations_CSV_20180820"; Fields: Manifest["fields"] };
    Location: { ObjectArn: string; ETag: string };
  };
  Report: { Enabled: false };
}

/** A Batch Operations job's state, from DescribeJob. */
export interface BatchStatus {
  /** S3's status: New, Preparing, Suspended, Ready, Active, Pausing, Paused, Complete, ... */
  status: string;
  total?: number;
  succeeded?: number;
  failed?: number;
  /** Why it failed, when it did. */
  reasons?: string[];
}

/** S3 Control's two calls a batch restore makes. Each rejects on an AWS error. */
export interface BatchJobs {
  /** CreateJob: the new job's id. */
  createJob(request: BatchRestoreRequest): Promise<string>;
  /** DescribeJob of `jobId` in `account`. */
  describeJob(account: string, jobId: string): Promise<BatchStatus>;
}

/** What a restore job records of its Batch Operations job (host/cold/restore_job.ts). */
export interface BatchRecord {
  jobId: string;
  account: string;
  region: string;
  /** The manifest's object name under the repository's prefix. */
  manifest: string;
  /** Packs the manifest lists. */
  objects: number;
  roleArn: string;
}

/** Statuses after which the job requests nothing more. */
export const batchEnded: readonly string[] = ["Complete", "Failed", "Cancelled"];

/** Where the repository is and who runs the job. */
export interface BatchTarget {
  bucket: string;
  /** The repository's key prefix, with its trailing `/` (or ""). */
  keyPrefix: string;
  partition: string;
  region: string;
  /**
   * The role S3 Batch Operations assumes (trusting `batchoperations.s3.amazonaws.com`): it
   * reads the manifest and restores the packs. Its account is the job's.
   */
  roleArn: string;
}

/** The account of an IAM role ARN; a `TypeError` for anything else. */
export function roleAccount(roleArn: string): string {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@\/-]+$/.exec(roleArn);
  if (!m) {
    throw new TypeError(
      `"${roleArn}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME): give the role ` +
        "S3 Batch Operations assumes (docs/s3.md §7)",
    );
  }
  return m[1];
}

/** The CreateJob request for a manifest already written (pure; exported for its tests). */
export function createJobRequest(
  target: BatchTarget,
  manifest: { key: string; etag: string; fields: Manifest["fields"] },
  o: { tier: RestoreTier; days: number; token: string },
): BatchRestoreRequest {
  if (o.tier === "expedited") {
    throw new RangeError(
      "S3 Batch Operations restores at the standard or bulk tier only, not expedited; " +
        "restore with per-object requests (--no-batch) or another tier",
    );
  }
  return {
    AccountId: roleAccount(target.roleArn),
    ClientRequestToken: o.token,
    ConfirmationRequired: false,
    Description: `permafrost restore ${o.token}`,
    Priority: 10,
    RoleArn: target.roleArn,
    Operation: {
      S3InitiateRestoreObject: {
        ExpirationInDays: o.days,
        GlacierJobTier: o.tier === "bulk" ? "BULK" : "STANDARD",
      },
    },
    Manifest: {
      Spec: { Format: "S3BatchOperations_CSV_20180820", Fields: manifest.fields },
      Location: {
        ObjectArn: `arn:${target.partition}:s3:::${target.bucket}/${manifest.key}`,
        ETag: manifest.etag,
      },
    },
    Report: { Enabled: false },
  };
}

/**
 * Writes the manifest of `names` (object names under the repository) create-only in STANDARD,
 * then creates the Batch Operations job; returns what the restore job records. `token` (12 hex
 * digits, fresh per batch) names the manifest and is CreateJob's idempotency token. The
 * manifest's ETag is its MD5, as S3 computes it for a single PUT without SSE-KMS.
 */
export async function startBatchRestore(
  storage: Storage,
  jobs: BatchJobs,
  target: BatchTarget,
  names: string[],
  o: { tier: RestoreTier; days: number; token: string },
): Promise<BatchRecord> {
  const manifest = restoreManifest(
    target.bucket,
    names.map((n) => ({ key: target.keyPrefix + n })),
  );
  const name = batchManifestName(o.token);
  const bytes = new TextEncoder().encode(manifest.csv);
  const request = createJobRequest(target, {
    key: target.keyPrefix + name,
    etag: createHash("md5").update(bytes).digest("hex"),
    fields: manifest.fields,
  }, o);
  await storage.create(name, bytes, { storageClass: "STANDARD" });
  const jobId = await jobs.createJob(request);
  return {
    jobId,
    account: request.AccountId,
    region: target.region,
    manifest: name,
    objects: names.length,
    roleArn: target.roleArn,
  };
}

/** What the thaw step calls to request restores (host/cold/restore_requests.ts's signature). */
export type ThawRequester = (
  states: PackState[],
  options: { tier: RestoreTier; days: number; upgrade?: boolean },
) => Promise<number>;

/**
 * The requester of a restore that goes through a Batch Operations job: `existing` (a resumed
 * job's), or the one `start` creates at the first call for the archived packs it is given.
 * While that job has not ended, archived packs are left to it (an upgrade asks for every pack
 * again, at the faster tier); once it has, any pack still archived is requested one by one. Only
 * unversioned `packs/` objects go into a manifest; any other object (a mirrored file's) is
 * requested one by one. A DescribeJob error stops the thaw with a message naming `--no-batch`.
 * `onStatus` is told each DescribeJob answer.
 */
export function batchRequester(
  storage: Storage,
  jobs: BatchJobs,
  o: {
    existing?: BatchRecord;
    start?: (names: string[]) => Promise<BatchRecord>;
    onStatus?: (record: BatchRecord, status: BatchStatus) => void;
  },
): { request: ThawRequester; record: () => BatchRecord | undefined } {
  let record = o.existing;
  let ended = false;
  const archived = (s: PackState) => s.availability.state === "archived";
  const request: ThawRequester = async (states, options) => {
    if (record === undefined) {
      const todo = states.filter((s) => archived(s) && batchable(s.name));
      if (todo.length === 0 || o.start === undefined) {
        return await requestThaw(storage, states, options);
      }
      record = await o.start(todo.map((s) => s.name));
      const others = await requestThaw(storage, states.filter((s) => !todo.includes(s)), options);
      return todo.length + others;
    }
    if (!ended) {
      const status = await describe(jobs, record);
      o.onStatus?.(record, status);
      ended = batchEnded.includes(status.status);
    }
    // An upgrade asks for every pack at the faster tier: the job's slower request for one
    // already being restored fails at S3 and changes nothing.
    const left = ended || options.upgrade ? states : states.filter((s) => !archived(s));
    return await requestThaw(storage, left, options);
  };
  return { request, record: () => record };
}

/**
 * Whether a survey name goes into a manifest: a pack (the batch role restores `packs/*` only),
 * not a mirrored file's object, which may name a version (host/cold/mirror_objects.ts) and is
 * requested one by one.
 */
function batchable(name: string): boolean {
  return name.startsWith("packs/") && !name.includes("\0");
}

/** DescribeJob of `record`'s job; an `Error` saying how to go on when S3 Control cannot tell. */
async function describe(jobs: BatchJobs, record: BatchRecord): Promise<BatchStatus> {
  try {
    return await jobs.describeJob(record.account, record.jobId);
  } catch (err) {
    throw new Error(
      `S3 Control could not describe batch job ${record.jobId} in account ${record.account} ` +
        `(${err instanceof Error ? err.message : err}); resume with --no-batch to request ` +
        "the packs still archived one by one",
    );
  }
}
