/**
 * When a restore job can be ready: from the job's requests (when each was made, at which tier)
 * and a survey of its packs now, the tier's documented window (restore_times.ts, docs/s3.md,
 * "Restore workflow") and an expected finish extrapolated from the packs already readable.
 * {@link restoreEta} is pure (the clock is an argument); {@link jobStatus} surveys and calls
 * it, for `restore --resume` and the web view's restore jobs page alike. {@link upgradePreview}
 * prices a tier upgrade of a running job: S3 bills the restore requests and the retrieval at
 * the faster tier for every pack it asks again (docs/cost-model.md §10.2).
 *
 * How the expected finish is worked out: the last request (the first, a tier upgrade, or a
 * request again for expired copies) asked for `sent` packs at time `from`; `done` of them are
 * readable now. At the same pace the rest are readable at `from + (now - from) × sent / done`,
 * but never later than the window's end, which S3 documents. The pace is measured at the
 * survey, so it is a late estimate when the job is looked at long after packs became ready.
 * With no pack of the last request ready yet there is nothing to extrapolate from: the window
 * alone is given.
 *
 * @module
 */

import { isReadable, type PackState, surveyPacks } from "../cold/pack_survey.ts";
import { jobsDir, listJobs, type RestoreJob } from "../cold/restore_job.ts";
import { fasterTier } from "../cold/restore_requests.ts";
import { describeHours, type HoursRange, restoreTimes } from "../cold/restore_times.ts";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import type { RestorePreview } from "./restore_estimate.ts";

const HOUR_MS = 3_600_000;

/** When the packs of a job can be readable, by S3's documented window for its tier. */
export interface RestoreWindow {
  /** The request the window runs from (ISO). */
  from: string;
  tier: RestoreTier;
  /** ISO times. */
  earliest: string;
  latest: string;
  /** "DEEP_ARCHIVE bulk: within 48 hours". */
  documented: string;
}

/** How the expected finish was worked out. */
export type EtaBasis =
  /** Every pack is readable. */
  | "ready"
  /** Extrapolated from the packs of the last request already readable. */
  | "pace"
  /** No pack of the last request is readable yet: the window only. */
  | "window"
  /** Past the window's end with packs still not readable. */
  | "overdue"
  /** The packs' class documents no window for the tier (or the job asked nothing). */
  | "unknown";

/** A job's ETA (see the module doc). Times are ISO 8601. */
export interface RestoreEta {
  job: string;
  tier: RestoreTier;
  /** The first request. */
  requestedAt: string;
  /** Each request that set the tier: the first, then each change (an upgrade). */
  tierChanges: { at: string; tier: RestoreTier }[];
  window: RestoreWindow | null;
  packs: { ready: number; total: number };
  /** The expected finish; null when {@link basis} is "window", "overdue" or "unknown". */
  expected: string | null;
  basis: EtaBasis;
  /** One sentence for people: what to expect, and from what. */
  says: string;
  /** The clock the ETA was worked out at. */
  at: string;
}

/** A job's ETA from a survey of its packs (`states`) at `now`. */
export function restoreEta(job: RestoreJob, states: PackState[], now: Date): RestoreEta {
  const ready = states.filter(isReadable).length;
  const total = states.length;
  // A hand-edited or damaged record: requests without a valid time are left out.
  const recorded = (Array.isArray(job.requests) ? job.requests : [])
    .filter((r) => !Number.isNaN(Date.parse(r?.at)) && Number.isInteger(r.packs));
  const requests = recorded.length > 0
    ? recorded
    : [{ at: job.requestedAt, tier: job.tier, packs: total - ready }];
  const window = windowOf(requests, states);
  const last = requests[requests.length - 1];
  const base = {
    job: job.id,
    tier: job.tier,
    requestedAt: job.requestedAt,
    tierChanges: tierChanges(requests),
    window,
    packs: { ready, total },
    at: now.toISOString(),
  };
  const pending = total - ready;
  if (pending === 0) {
    return {
      ...base,
      expected: null,
      basis: "ready",
      says: `every pack is readable (${total} of ${total})`,
    };
  }
  const waitingFor = `${pending} of ${packs(total)} not readable yet`;
  if (window === null || Number.isNaN(Date.parse(last.at))) {
    return {
      ...base,
      expected: null,
      basis: "unknown",
      says: `${waitingFor}; no known window for its tier`,
    };
  }
  const latest = Date.parse(window.latest);
  if (now.getTime() > latest) {
    return {
      ...base,
      expected: null,
      basis: "overdue",
      says: `overdue: ${waitingFor}, though S3's window (${window.documented}) closed at ` +
        `${when(window.latest)}; run the command again, and check the bucket if this lasts`,
    };
  }
  const from = Date.parse(last.at);
  const done = last.packs - pending;
  const elapsed = now.getTime() - from;
  if (done <= 0 || elapsed <= 0) {
    return {
      ...base,
      expected: null,
      basis: "window",
      says: `none of the ${packs(last.packs)} asked for at ${when(last.at)} is readable yet, ` +
        `too early to extrapolate: expect them by ${when(window.latest)}, the window's end`,
    };
  }
  const paced = from + elapsed * last.packs / done;
  const expected = new Date(Math.min(paced, latest)).toISOString();
  const capped = paced > latest ? " (the window's end; the pace so far is slower)" : "";
  return {
    ...base,
    expected,
    basis: "pace",
    says: `expected about ${when(expected)}${capped}, from ${done} of the ` +
      `${packs(last.packs)} asked for at ${when(last.at)} readable after ${hours(elapsed)}`,
  };
}

/**
 * The window of the last request: from its time, by its tier's documented hours (the slowest
 * class among the packs not readable yet). An upgrade does not make the window later: the
 * slower request asked before still runs, so the latest time is the earlier of the two.
 */
function windowOf(
  requests: { at: string; tier: RestoreTier }[],
  states: PackState[],
): RestoreWindow | null {
  const pending = states.filter((s) => !isReadable(s));
  const classes = new Set((pending.length > 0 ? pending : states).map((s) => s.storageClass));
  let window: RestoreWindow | null = null;
  for (const r of requests) {
    const h = hoursOf(classes, r.tier);
    if (h === null) return null;
    const from = Date.parse(r.at);
    if (Number.isNaN(from)) return null;
    const next: RestoreWindow = {
      from: r.at,
      tier: r.tier,
      earliest: new Date(from + h.range.min * HOUR_MS).toISOString(),
      latest: new Date(from + h.range.max * HOUR_MS).toISOString(),
      documented: h.text,
    };
    if (window !== null && fasterTier(r.tier, window.tier) && window.latest < next.latest) {
      // Past the slower window's end before the faster one can start: the upgrade is too late
      // to make anything sooner, and the slower window stands.
      if (window.latest <= next.earliest) continue;
      next.latest = window.latest;
    }
    window = next;
  }
  return window;
}

/**
 * The documented hours of `tier` for a job with packs in each of `classes`, or null when one
 * documents none: every pack is readable no sooner than the slowest class's shortest time, and
 * no later than its longest.
 */
function hoursOf(
  classes: Set<string>,
  tier: RestoreTier,
): { range: HoursRange; text: string } | null {
  let range: HoursRange | null = null;
  const texts: string[] = [];
  for (const c of classes) {
    const h = (restoreTimes as Record<string, Record<string, HoursRange> | undefined>)[c]?.[tier];
    if (h === undefined) return null;
    range = range === null
      ? { ...h }
      : { min: Math.max(range.min, h.min), max: Math.max(range.max, h.max) };
    texts.push(`${c} ${tier}: ${describeHours(h)}`);
  }
  return range === null ? null : { range, text: texts.join("; ") };
}

function tierChanges(requests: { at: string; tier: RestoreTier }[]) {
  const out: { at: string; tier: RestoreTier }[] = [];
  for (const r of requests) {
    if (out.length === 0 || out[out.length - 1].tier !== r.tier) {
      out.push({ at: r.at, tier: r.tier });
    }
  }
  return out;
}

/** "2027-01-02 03:04 UTC". */
export function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "1 pack", "3 packs". */
function packs(n: number): string {
  return `${n} pack${n === 1 ? "" : "s"}`;
}

function hours(ms: number): string {
  const h = ms / HOUR_MS;
  const m = Math.max(1, Math.round(h * 60));
  return h < 1 ? `${m} minute${m === 1 ? "" : "s"}` : `${h.toFixed(1)} hours`;
}

/** The ETA as lines for people (the CLI prints them; the web view shows the same words). */
export function etaLines(eta: RestoreEta): string[] {
  const changes = eta.tierChanges.slice(1).map((c) => `, ${c.tier} from ${when(c.at)}`).join("");
  const first = eta.tierChanges[0]?.tier ?? eta.tier;
  const lines = [`job ${eta.job}: requested ${when(eta.requestedAt)} (${first}${changes})`];
  if (eta.window) {
    lines.push(
      `  ready between ${when(eta.window.earliest)} and ${when(eta.window.latest)} ` +
        `(${eta.window.documented}, from ${when(eta.window.from)})`,
    );
  }
  lines.push(`  ${eta.packs.ready}/${eta.packs.total} packs readable; ${eta.says}`);
  return lines;
}

/** What a resumed job's page or command shows: the job and its ETA, from a survey now. */
export interface JobStatus {
  job: RestoreJob;
  eta: RestoreEta;
}

/** Surveys `job`'s packs in `storage` and works out its ETA at `now`. */
export async function jobStatus(
  storage: Storage,
  job: RestoreJob,
  now: Date = new Date(),
): Promise<JobStatus> {
  return { job, eta: restoreEta(job, await surveyPacks(storage, job.packs), now) };
}

/** The restore jobs of one repository in a state folder, each with its ETA or why it has none. */
export interface RestoreJobsReport {
  /** The folder the jobs were read from. */
  dir: string;
  jobs: (
    & Pick<RestoreJob, "id" | "snapshot" | "path" | "target" | "tier" | "days">
    & ({ eta: RestoreEta } | { error: string })
  )[];
  /** Files in the folder that are not readable jobs. */
  damaged: string[];
}

/**
 * The jobs in `dir` (default `jobsDir()`) made for the repository at `location` (the location
 * as the job records it, compared as text), each surveyed in `storage` for its ETA at `now`.
 * A job whose survey fails (a pack gone) carries the error instead.
 */
export async function restoreJobs(
  storage: Storage,
  location: string,
  options: { dir?: string; now?: Date } = {},
): Promise<RestoreJobsReport> {
  const dir = options.dir ?? jobsDir();
  const { jobs, damaged } = listJobs(dir);
  const out: RestoreJobsReport["jobs"] = [];
  for (const job of jobs.filter((j) => j.repo === location)) {
    const { id, snapshot, path, target, tier, days } = job;
    try {
      const { eta } = await jobStatus(storage, job, options.now);
      out.push({ id, snapshot, path, target, tier, days, eta });
    } catch (err) {
      out.push({ id, snapshot, path, target, tier, days, error: (err as Error).message });
    }
  }
  return { dir, jobs: out, damaged };
}

/**
 * A tier upgrade of a running job (`tier` faster than the job's): the ETA it would have once
 * every pack not readable is asked again at `tier` at `now`; null when it is no upgrade or
 * nothing is being restored.
 */
export function upgradeEta(
  job: RestoreJob,
  states: PackState[],
  tier: RestoreTier,
  now: Date,
): RestoreEta | null {
  const asked = states.filter((s) => !isReadable(s)).length;
  if (!fasterTier(tier, job.tier) || asked === 0) return null;
  const at = now.toISOString();
  const requests = [...job.requests, { at, tier, packs: asked }];
  return restoreEta({ ...job, tier, requests }, states, now);
}

/**
 * The preview a tier upgrade is priced on: packs being restored count as archived, since the
 * upgrade asks for each again and S3 bills the request and the retrieval at the faster tier.
 */
export function upgradePreview(preview: RestorePreview): RestorePreview {
  return {
    ...preview,
    states: preview.states.map((s) =>
      s.availability.state === "restoring" ? { ...s, availability: { state: "archived" } } : s
    ),
  };
}
