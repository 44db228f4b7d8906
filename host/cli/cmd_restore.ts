import { useIndexCache } from "../cache/index_cache.ts";
import { isReadable, type PackState, totals } from "../cold/pack_survey.ts";
import { jobsDir, loadJob, type RestoreJob } from "../cold/restore_job.ts";
import { fasterTier } from "../cold/restore_requests.ts";
import { describeHours, restoreTimes, tiersOf } from "../cold/restore_times.ts";
import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import {
  checkTierOffered,
  type RestoreOutcome,
  runRestore,
  TierNotOffered,
} from "../workflows/restore.ts";
import {
  DEFAULT_RESTORE_DAYS,
  DEFAULT_RESTORE_TIER,
  needsThaw,
  prepareRestore,
  priceRestore,
  type RestoreEstimate,
  restoreEstimateReport,
  type RestorePreview,
  summarize,
} from "../workflows/restore_estimate.ts";
import {
  etaLines,
  type RestoreEta,
  restoreEta,
  upgradeEta,
  upgradePreview,
} from "../workflows/restore_eta.ts";
import type { ProgressEvent } from "../ops/progress.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { ProgressDisplay, progressMode } from "./progress.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { batchFlags, batchOptions, batchThaw, restoreMethods } from "./batch_flags.ts";
import { saveJob } from "../cold/restore_job.ts";
import { methodLines } from "../workflows/batch_choice.ts";
import { cliPricing, regionOption } from "./pricing.ts";
import { destinationFlag, readEstimateText } from "./read_estimate.ts";
import { inRegionOptions } from "./in_region.ts";
import { jobOptions } from "./job_flags.ts";
import { checkInRegion, launchRestore } from "./restore_in_region.ts";
import { withTargetWritesEach } from "../workflows/restore_s3_estimate.ts";
import {
  checkTargetOutsideRepository,
  isS3Target,
  type TargetClass,
  targetClasses,
} from "../ops/restore_s3_target.ts";
import {
  POLL_SECONDS,
  restoresRequested,
  surveyLine,
  thawFlags,
  thawOptions,
  tierUsage,
  WAITING,
} from "./thaw_flags.ts";

export const restoreOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  target: { type: "string" },
  "target-class": { type: "string" },
  resume: { type: "string" },
  "dry-run": { type: "boolean" },
  estimate: { type: "boolean" },
  to: { type: "string" },
  ...batchOptions,
  ...inRegionOptions,
  image: jobOptions.image,
  "job-role": jobOptions["job-role"],
} as const satisfies OptionTable;

/** What a restore is about: asked fresh, or read back from a saved job. */
interface Request {
  location: string;
  snapshotRef: string;
  path: string;
  target?: string;
  /** A target in S3: the objects' class. */
  targetClass: TargetClass;
  job?: RestoreJob;
}

/**
 * `restore SNAP[:PATH] --target DIR [--tier T] [--days N] [--wait] [--poll S] [--dry-run]`
 * `restore --resume JOB [--tier T] [--wait] [--poll S]`
 * Both also take `--estimate`, `--to internet|region`, `--budget USD`, `--yes`, `--region R`.
 * `--target s3://BUCKET/PREFIX/ [--target-class C]` restores into S3 (host/ops/restore_s3_*.ts);
 * `--in-region` (with the launcher's flags) runs that restore as a job once every pack is
 * readable (`restore_in_region.ts`, docs/in-region.md §7).
 *
 * Parses, then runs the restore workflow (host/workflows/restore*.ts): plans (files, packs,
 * their cold state), then restores when every pack is readable, or requests restores of the
 * archived packs, saves a job and either waits (`--wait`) or exits with status 4 and the
 * command that resumes it. docs/s3.md, "Restore workflow". `--estimate` prints the plan's
 * price instead; a plan that spends money goes through the cost gate first (`confirm.ts`,
 * docs/cost-model.md §10.4).
 */
export async function cmdRestore(ctx: Context): Promise<number> {
  const request = parseRequest(ctx);
  if (request.target !== undefined) {
    try {
      checkTargetOutsideRepository(request.location, request.target);
    } catch (err) {
      throw err instanceof TypeError ? new UsageError(err.message) : err;
    }
  }
  const flags = thawFlags(ctx, {
    tier: request.job?.tier ?? DEFAULT_RESTORE_TIER,
    days: request.job?.days ?? DEFAULT_RESTORE_DAYS,
  });
  const { tier, days } = flags;
  const inRegion = ctx.bool("in-region");
  for (const flag of ["image", "job-role", "cluster", "launch", "instance-profile"]) {
    if (!inRegion && ctx.string(flag) !== undefined) {
      throw new UsageError(`--${flag} configures the job of --in-region: give that too`);
    }
  }
  if (inRegion) checkInRegion(request.location, request.target ?? request.job?.target);
  const to = inRegion ? "region" : destinationFlag(ctx);
  const batch = batchFlags(ctx);

  const repo = await ctx.open(request.location);
  try {
    useIndexCache(repo, ctx.cacheDir());
    const preview = await prepareRestore(repo, {
      snapshot: request.snapshotRef,
      path: request.path,
    });
    const pricing = cliPricing(ctx, repo, request.location);
    // A restore into S3 also pays for the objects it writes (cost-model §10.2a), at home too.
    const s3Target = request.target ?? request.job?.target;
    const price = (p: RestorePreview, choice: Parameters<typeof priceRestore>[2]) => {
      const e = priceRestore(p, pricing, choice);
      return s3Target !== undefined && isS3Target(s3Target)
        ? withTargetWritesEach(e, preview.plan, request.targetClass, pricing)
        : e;
    };
    if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, request.location, false);
    const summary = () => ({ ...summarize(preview), ...jobFields(request.job) });
    if (ctx.bool("estimate")) {
      // A resumed job's tier is the job's, not a flag: one its packs' classes no longer offer
      // falls back as when no --tier is given.
      const given = ctx.string("tier") as RestoreTier | undefined;
      const fallback = request.job?.tier;
      const upgrade = upgradeOf(request.job, preview, given);
      const e = price(upgrade ? upgradePreview(preview) : preview, {
        tier: given,
        fallback,
        to,
        days,
      });
      // Above the threshold, per-object requests against one Batch Operations job.
      const methods = upgrade ? undefined : restoreMethods(preview, e, batch);
      ctx.print(
        {
          ...restoreEstimateReport(e),
          plan: summary(),
          ...(upgrade ? { upgrade } : {}),
          ...(methods ? { methods } : {}),
        },
        () =>
          [
            estimateText(preview, e, upgrade),
            ...(methods && (methods.objects > methods.threshold || batch.batch !== undefined)
              ? methodLines(methods)
              : []),
          ].join("\n"),
      );
      return 0;
    }
    if (ctx.bool("dry-run")) {
      ctx.print({ ...summary(), dryRun: true }, () => planText(preview, tier));
      return 0;
    }

    const upgrade = upgradeOf(request.job, preview, tier);
    const choice = { tier, days, to };
    const progress = restoreProgress(ctx);
    let job = request.job;
    const methods = upgrade || request.job?.batch || !needsThaw(preview)
      ? undefined
      : restoreMethods(
        preview,
        offered(preview, tier, () => priceRestore(preview, pricing, choice)),
        batch,
      );
    const batched = batchThaw(ctx, {
      location: request.location,
      storage: repo.storage,
      methods,
      existing: request.job?.batch,
      tier,
      days,
    });
    const outcome = await runRestore(repo, preview, {
      pricing,
      tier,
      days,
      to,
      location: request.location,
      target: request.target,
      targetClass: request.targetClass,
      job: request.job,
      stopWhenReadable: inRegion,
      approve: async (e) => {
        // In the region, what is approved here is the thaw; the job is priced before its launch.
        if (inRegion && !needsThaw(preview)) return true;
        // An upgrade asks again, at the faster tier, for every pack still being restored.
        const priced = upgrade
          ? price(upgradePreview(preview), choice)
          : s3Target !== undefined && isS3Target(s3Target)
          ? withTargetWritesEach(e, preview.plan, request.targetClass, pricing)
          : e;
        const chosen = methods?.chosen === "batch" ? methods.batch.estimate : undefined;
        await approveCost(ctx, chosen ?? priced.chosen.estimate, {
          action: upgrade ? `this restore, upgraded to ${tier},` : "this restore",
          shown: () => estimateText(preview, priced, upgrade),
          threshold: true,
        });
        return true;
      },
      request: batched?.request,
      onRequested: ({ job: saved, sent }) => {
        job = saved;
        const record = batched?.record();
        if (record && !saved.batch) {
          saved.batch = record;
          saveJob(saved);
        }
        if (ctx.json) return;
        console.error(planText(preview, tier));
        console.error(`${restoresRequested(sent, tier, days)}; job ${saved.id}`);
        if (record && sent > 0) {
          console.error(
            `S3 Batch Operations job ${record.jobId} requests ${record.objects} of them ` +
              `(manifest ${record.manifest}); \`restore --resume ${saved.id}\` follows it`,
          );
        }
      },
      wait: flags.wait
        ? {
          intervalSeconds: flags.poll ?? POLL_SECONDS[tier],
          onSurvey: (s) => {
            surveyLine(ctx, s);
            if (!ctx.json && job) console.error(`  ${restoreEta(job, s, new Date()).says}`);
          },
        }
        : undefined,
      onProgress: progress.onProgress,
      onWarning: progress.onWarning,
    }).catch((err) => {
      // The workflow names the tiers; the CLI names the flag that picks one.
      if (err instanceof TierNotOffered) throw tierUsage(err);
      throw err;
    }).finally(progress.done);

    if (outcome.status === "readable") {
      return await launchRestore(ctx, preview, pricing, {
        location: request.location,
        target: (request.target ?? request.job?.target)!,
        targetClass: request.targetClass,
        tier,
        days,
        job: outcome.job ?? request.job,
      });
    }
    return printOutcome(ctx, preview, request, outcome, { tier, days });
  } finally {
    await repo.storage.close();
  }
}

/** `price()` once the packs' classes are known to offer `tier` (refused as for `--tier`). */
function offered<T>(preview: RestorePreview, tier: RestoreTier, price: () => T): T {
  try {
    checkTierOffered(preview.states, tier);
  } catch (err) {
    throw err instanceof TierNotOffered ? tierUsage(err) : err;
  }
  return price();
}

/** What the restore did, printed: exit status 4 while packs thaw, 0 once restored. */
function printOutcome(
  ctx: Context,
  preview: RestorePreview,
  request: Request,
  outcome: RestoreOutcome,
  { tier, days }: { tier: RestoreTier; days: number },
): number {
  if (outcome.status === "declined" || outcome.status === "readable") return 1;
  if (outcome.status === "waiting") {
    const resume = `permafrost restore --resume ${outcome.job.id}` +
      (ctx.bool("in-region") ? " --in-region" : "");
    // The survey before the requests: the packs it found archived are now being restored,
    // and neither state is readable, so the counts hold.
    const eta = restoreEta(outcome.job, preview.states, new Date());
    ctx.print(
      {
        ...summarize(preview),
        ...jobFields(request.job),
        job: outcome.job.id,
        requested: outcome.sent,
        tier,
        days,
        waiting: true,
        resume,
        ...(outcome.job.batch ? { batch: outcome.job.batch } : {}),
        eta,
      },
      () =>
        [
          ...etaLines(eta),
          `packs are being restored from cold storage; run \`${resume}\` later ` +
          `(add --wait to wait for them)`,
        ].join("\n"),
    );
    return WAITING;
  }
  const r = outcome.result;
  ctx.print(
    {
      ...summarize({ ...preview, states: outcome.states }),
      ...jobFields(outcome.job),
      target: r.target,
    },
    () =>
      `restored ${plural(r.files, "file")}, ${plural(r.dirs, "dir")}, ${bytes(r.bytes)} to ` +
      `${r.target} (read ${bytes(r.readBytes)} from ${plural(r.packs, "pack")})`,
  );
  return 0;
}

function parseRequest(ctx: Context): Request {
  const resume = ctx.string("resume");
  if (resume !== undefined) {
    if (ctx.positionals.length > 0 || ctx.string("target") !== undefined) {
      throw new UsageError("--resume JOB takes no snapshot and no --target: the job has them");
    }
    if (ctx.string("target-class") !== undefined) {
      throw new UsageError("--resume JOB takes no --target-class: the job has it");
    }
    const job = loadJob(resume);
    return {
      location: job.repo,
      snapshotRef: job.snapshot,
      path: job.path,
      targetClass: (job.targetClass ?? "STANDARD") as TargetClass,
      job,
    };
  }
  const [spec] = ctx.positionals;
  refuseExtraArguments(ctx, 1);
  const target = ctx.string("target");
  if (!spec) throw new UsageError("restore needs a snapshot, e.g. latest or latest:/docs/file.txt");
  if (!target && !ctx.bool("dry-run") && !ctx.bool("estimate")) {
    throw new UsageError("restore needs --target DIR (or --target s3://BUCKET/PREFIX/)");
  }
  const colon = spec.indexOf(":");
  return {
    location: ctx.requireRepo(),
    snapshotRef: colon < 0 ? spec : spec.slice(0, colon),
    path: colon < 0 ? "/" : spec.slice(colon + 1),
    target,
    targetClass: targetClassFlag(ctx, target),
  };
}

/** `--target-class`: one of S3's classes, for a target in S3 only; default STANDARD. */
function targetClassFlag(ctx: Context, target: string | undefined): TargetClass {
  const given = ctx.string("target-class");
  if (given === undefined) return "STANDARD";
  if (target === undefined || !isS3Target(target)) {
    throw new UsageError(
      "--target-class is the storage class of a restore into S3 (--target s3://...)",
    );
  }
  if (!(targetClasses as readonly string[]).includes(given)) {
    throw new UsageError(`--target-class is one of ${targetClasses.join(", ")}, not "${given}"`);
  }
  return given as TargetClass;
}

/** The job fields of the JSON of a resumed restore. */
function jobFields(job: RestoreJob | undefined) {
  return job ? { job: job.id, jobsDir: jobsDir() } : {};
}

/**
 * The progress of a restore (a line at a terminal, JSON lines with `--json`: `progress.ts`),
 * from its first event, when it starts writing: not while packs are requested or thaw.
 */
function restoreProgress(ctx: Context) {
  const mode = progressMode(ctx.json);
  let display: ProgressDisplay | undefined;
  return {
    onProgress: mode === "off" ? undefined : (e: ProgressEvent) => {
      display ??= new ProgressDisplay("restore", mode);
      display.update(e);
    },
    onWarning: (message: string) => {
      if (display) display.note(`warning: ${message}`);
      else console.error(`warning: ${message}`);
    },
    done: () => display?.done(),
  };
}

function estimateText(preview: RestorePreview, e: RestoreEstimate, upgrade?: Upgrade): string {
  const p = preview.plan;
  const title = `restore ${p.files} files, ${bytes(p.bytes)} from ${p.packs.length} ` +
    `packs (${bytes(p.packBytes)}; reading ${bytes(p.readBytes)})`;
  const text = readEstimateText(title, e, e.pricing, e.notes);
  if (!upgrade) return text;
  return [
    text,
    `upgrade of job ${upgrade.job} from ${upgrade.from} to ${upgrade.to}: asks again for ` +
    `${plural(upgrade.packs, "pack")} being restored (restore requests and retrieval at ` +
    `${upgrade.to}, priced above)`,
    ...etaLines(upgrade.eta).slice(1),
  ].join("\n");
}

/** A tier upgrade of a resumed job: what it asks again for, and the ETA it would have. */
interface Upgrade {
  job: string;
  from: RestoreTier;
  to: RestoreTier;
  /** Packs being restored, asked for again at `to`. */
  packs: number;
  eta: RestoreEta;
}

/** The upgrade `tier` would make of the resumed `job`, or undefined when it makes none. */
function upgradeOf(
  job: RestoreJob | undefined,
  preview: RestorePreview,
  tier: RestoreTier | undefined,
): Upgrade | undefined {
  if (!job || !tier || !fasterTier(tier, job.tier)) return undefined;
  const eta = upgradeEta(job, preview.states, tier, new Date());
  if (!eta) return undefined;
  const packs = preview.states.filter((s: PackState) => s.availability.state === "restoring")
    .length;
  return { job: job.id, from: job.tier, to: tier, packs, eta };
}

/** The plan as text: what is restored, from which packs, in what state, and how long tiers take. */
function planText(preview: RestorePreview, tier: RestoreTier): string {
  const { plan, states } = preview;
  const t = totals(states);
  const lines = [
    `restore ${plan.files} files, ${plan.dirs} dirs, ${bytes(plan.bytes)} ` +
    `from ${plan.packs.length} packs (${bytes(plan.packBytes)}; reading ${bytes(plan.readBytes)})`,
  ];
  const part = (label: string, x: { packs: number; bytes: number }) =>
    x.packs > 0 ? [`${x.packs} ${label} (${bytes(x.bytes)})`] : [];
  lines.push(
    "  packs: " + [
      ...part("readable", t.readable),
      ...part("restored", t.restored),
      ...part("being restored", t.restoring),
      ...part("archived", t.archived),
    ].join(", "),
  );
  const classes = new Set<StorageClass>(
    states.filter((s) => !isReadable(s)).map((s) => s.storageClass),
  );
  for (const c of classes) {
    const times = restoreTimes[c] ?? {};
    const tiers = tiersOf(c).map((x) =>
      `${x}${x === tier ? " (chosen)" : ""}: ${describeHours(times[x]!)}`
    );
    if (tiers.length > 0) lines.push(`  ${c} restore times: ${tiers.join("; ")}`);
  }
  return lines.join("\n");
}
