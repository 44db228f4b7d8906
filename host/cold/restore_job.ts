/**
 * Restore jobs: a cold restore that waits for S3 to thaw packs outlives the process that
 * asked. A job records what was asked (repository, snapshot, path, target, tier, days) and
 * which packs it needs, so `permafrost restore --resume JOB` can pick it up after a restart,
 * on the same machine, without asking S3 again for what is already under way.
 *
 * Jobs live in `PERMAFROST_STATE_DIR`, else `$XDG_STATE_HOME/permafrost`, else
 * `~/.local/state/permafrost`, as `restore-jobs/<id>.json` (folder 0700, files 0600). They hold
 * no secret: the passphrase is asked again on resume. Written whole to a temporary name and
 * renamed, so a crash leaves the old or the new record, never a torn one.
 *
 * @module
 */

import { join } from "node:path";
import type { RestoreTier } from "../storage/storage.ts";
import type { BatchRecord } from "./batch_restore.ts";

/** One restore job. */
export interface RestoreJob {
  version: 1;
  /** 12 lowercase hex digits. */
  id: string;
  /** The repository location, as given (`s3://...`, a folder, ...). */
  repo: string;
  /** The snapshot id (resolved, never `latest`: a resumed job restores the same snapshot). */
  snapshot: string;
  path: string;
  /** Absolute target folder, or an S3 prefix (`s3://BUCKET/PREFIX`). */
  target: string;
  /** A target in S3: the objects' storage class, when not STANDARD. */
  targetClass?: string;
  tier: RestoreTier;
  days: number;
  /** Object names of the packs the restore reads. */
  packs: string[];
  /** ISO times: the first request, and each later request (tier upgrades, expired copies). */
  requestedAt: string;
  requests: { at: string; tier: RestoreTier; packs: number }[];
  /**
   * The S3 Batch Operations job that requested the packs, when one did
   * (host/cold/batch_restore.ts): `restore --resume` follows it before asking per pack.
   */
  batch?: BatchRecord;
}

/** The folder holding restore jobs (created 0700 on first write). */
export function jobsDir(): string {
  const env = (n: string) => Deno.env.get(n) || undefined;
  const state = env("PERMAFROST_STATE_DIR") ??
    join(env("XDG_STATE_HOME") ?? join(env("HOME") ?? ".", ".local", "state"), "permafrost");
  return join(state, "restore-jobs");
}

/** A new job id. */
export function newJobId(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Writes `job` (replacing its earlier record). */
export function saveJob(job: RestoreJob, dir = jobsDir()): string {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${job.id}.json`);
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(job, null, 2) + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, path);
  return path;
}

/** Reads job `id`; `Deno.errors.NotFound` naming the job and folder when there is none. */
export function loadJob(id: string, dir = jobsDir()): RestoreJob {
  if (!/^[0-9a-f]{12}$/.test(id)) {
    throw new TypeError(`restore job "${id}" is not a job id (12 hex digits, as printed)`);
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(join(dir, `${id}.json`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`there is no restore job "${id}" in ${dir}`);
    }
    throw err;
  }
  let job: RestoreJob;
  try {
    job = JSON.parse(text) as RestoreJob;
  } catch {
    throw new TypeError(`restore job file for "${id}" in ${dir} is not JSON (damaged?)`);
  }
  if (job?.version !== 1 || job.id !== id || !Array.isArray(job.packs)) {
    throw new TypeError(`restore job file for "${id}" in ${dir} is not a version 1 job`);
  }
  return job;
}

/** Removes a finished job's record. Missing is fine. */
export function removeJob(id: string, dir = jobsDir()): void {
  try {
    Deno.removeSync(join(dir, `${id}.json`));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Every job in `dir` (none when the folder does not exist), oldest request first; files that
 * are not readable jobs are named in `damaged` instead of failing the listing.
 */
export function listJobs(dir = jobsDir()): { jobs: RestoreJob[]; damaged: string[] } {
  const jobs: RestoreJob[] = [];
  const damaged: string[] = [];
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { jobs, damaged };
    throw err;
  }
  for (const name of names.filter((n) => /^[0-9a-f]{12}\.json$/.test(n)).sort()) {
    try {
      jobs.push(loadJob(name.slice(0, 12), dir));
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof Deno.errors.NotFound)) throw err;
      if (err instanceof TypeError) damaged.push(name);
    }
  }
  jobs.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  return { jobs, damaged };
}
