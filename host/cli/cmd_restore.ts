import { resolve } from "node:path";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { planRestore, type RestorePlan } from "../ops/restore_plan.ts";
import { executeRestore } from "../ops/restore.ts";
import { isReadable, type PackState, surveyPacks, totals } from "../cold/pack_survey.ts";
import {
  jobsDir,
  loadJob,
  newJobId,
  removeJob,
  type RestoreJob,
  saveJob,
} from "../cold/restore_job.ts";
import { describeHours, restoreTimes, tiersOf } from "../cold/restore_times.ts";
import { fasterTier, requestThaw } from "../cold/thaw.ts";
import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { bytes, type Context, jsonOption, repoOptions, UsageError } from "./context.ts";
import { Progress } from "./progress.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { regionOption, type RepoPricing, repoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  readEstimateJson,
  readEstimateText,
} from "./read_estimate.ts";
import {
  checkTierOffered,
  restoresRequested,
  thawFlags,
  thawOptions,
  WAITING,
  waitUntilReadable,
} from "./thaw_step.ts";

export const restoreOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  target: { type: "string" },
  resume: { type: "string" },
  "dry-run": { type: "boolean" },
  estimate: { type: "boolean" },
  to: { type: "string" },
} as const satisfies OptionTable;

const DEFAULT_TIER: RestoreTier = "standard";
const DEFAULT_DAYS = 3;

/** What a restore is about: asked fresh, or read back from a saved job. */
interface Request {
  location: string;
  snapshotRef: string;
  path: string;
  target?: string;
  job?: RestoreJob;
}

/**
 * `restore SNAP[:PATH] --target DIR [--tier T] [--days N] [--wait] [--poll S] [--dry-run]`
 * `restore --resume JOB [--tier T] [--wait] [--poll S]`
 * Both also take `--estimate`, `--to internet|region`, `--budget USD`, `--yes`, `--region R`.
 *
 * Plans first (files, packs, their cold state), then: when every pack is readable, restores;
 * otherwise requests restores of the archived packs, saves a job and either waits (`--wait`)
 * or exits with status 4 and the command that resumes it. docs/s3.md, "Restore workflow".
 * `--estimate` prices the plan instead (every tier, to the internet and in the region); a plan
 * that spends money goes through the cost gate first (`confirm.ts`, docs/cost-model.md §10.4).
 */
export async function cmdRestore(ctx: Context): Promise<number> {
  const request = parseRequest(ctx);
  const flags = thawFlags(ctx, {
    tier: request.job?.tier ?? DEFAULT_TIER,
    days: request.job?.days ?? DEFAULT_DAYS,
  });
  const { tier, days } = flags;

  const repo = await ctx.open(request.location);
  try {
    const snap = await repo.snapshot(request.snapshotRef);
    const plan = await planRestore(repo, snap.id, snap.manifest.root, request.path);
    const coldNames = plan.packs.filter((p) => !p.metadata).map((p) => layout.pack(p.pack));
    let states = await surveyPacks(repo.storage, coldNames);
    const summary = describePlan(plan, states, request.job?.id);

    const pricing = repoPricing(ctx, request.location, repo.config.cold.storageClass);
    const reads = () => priceReads(ctx, pricing, objectsRead(plan, states, pricing), days, tier);
    const notes = [
      "one GET per frame read; metadata packs are read from their hot copies",
      ...(pricing.note ? [pricing.note] : []),
    ];
    const title = `restore ${plan.files} files, ${bytes(plan.bytes)} from ${plan.packs.length} ` +
      `packs (${bytes(plan.packBytes)}; reading ${bytes(plan.readBytes)})`;
    if (ctx.bool("estimate")) {
      const r = reads();
      ctx.print(
        readEstimateJson(r, summary, notes),
        () => readEstimateText(title, r, pricing, notes),
      );
      return 0;
    }

    if (ctx.bool("dry-run")) {
      ctx.print({ ...summary, dryRun: true }, () => planText(plan, states, tier));
      return 0;
    }

    const mustRequest = !states.every(isReadable);
    if (mustRequest) checkTierOffered(states, tier);
    // A fresh restore, or a resumed one that must ask again, is priced before anything is
    // requested or read; a store that bills nothing (a plain folder) is not gated.
    if (!pricing.asIfS3 && (request.job === undefined || mustRequest)) {
      const r = reads();
      await approveCost(ctx, r.chosen.estimate, {
        action: "this restore",
        shown: () => readEstimateText(title, r, pricing, notes),
        threshold: true,
      });
    }

    if (mustRequest) {
      const upgrade = request.job !== undefined && fasterTier(tier, request.job.tier);
      const sent = await requestThaw(repo.storage, states, { tier, days, upgrade });
      const job = recordJob(request, snap.id, plan, coldNames, tier, days, sent);
      if (!ctx.json) {
        console.error(planText(plan, states, tier));
        console.error(`${restoresRequested(sent, tier, days)}; job ${job.id}`);
      }
      if (!flags.wait) {
        const resume = `permafrost restore --resume ${job.id}`;
        ctx.print(
          { ...summary, job: job.id, requested: sent, tier, days, waiting: true, resume },
          () =>
            `packs are being restored from cold storage; run \`${resume}\` later ` +
            `(add --wait to wait for them)`,
        );
        return WAITING;
      }
      states = await waitUntilReadable(ctx, repo.storage, coldNames, flags);
      request.job = job;
    }

    const result = await restoreNow(ctx, repo, plan, request.target ?? request.job!.target);
    if (request.job) removeJob(request.job.id);
    ctx.print(
      { ...describePlan(plan, states, request.job?.id), target: result.target },
      () =>
        `restored ${result.files} files, ${result.dirs} dirs, ${
          bytes(result.bytes)
        } to ${result.target} (read ${bytes(result.readBytes)} from ${result.packs} packs)`,
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}

function parseRequest(ctx: Context): Request {
  const resume = ctx.string("resume");
  if (resume !== undefined) {
    if (ctx.positionals.length > 0 || ctx.string("target") !== undefined) {
      throw new UsageError("--resume JOB takes no snapshot and no --target: the job has them");
    }
    const job = loadJob(resume);
    return { location: job.repo, snapshotRef: job.snapshot, path: job.path, job };
  }
  const [spec] = ctx.positionals;
  refuseExtraArguments(ctx, 1);
  const target = ctx.string("target");
  if (!spec) throw new UsageError("restore needs a snapshot, e.g. latest or latest:/docs/file.txt");
  if (!target && !ctx.bool("dry-run") && !ctx.bool("estimate")) {
    throw new UsageError("restore needs --target DIR");
  }
  const colon = spec.indexOf(":");
  return {
    location: ctx.requireRepo(),
    snapshotRef: colon < 0 ? spec : spec.slice(0, colon),
    path: colon < 0 ? "/" : spec.slice(colon + 1),
    target,
  };
}

function recordJob(
  request: Request,
  snapshot: string,
  plan: RestorePlan,
  packs: string[],
  tier: RestoreTier,
  days: number,
  sent: number,
): RestoreJob {
  const now = new Date().toISOString();
  const job: RestoreJob = request.job ?? {
    version: 1,
    id: newJobId(),
    repo: request.location,
    snapshot,
    path: plan.path,
    target: resolve(request.target!),
    tier,
    days,
    packs,
    requestedAt: now,
    requests: [],
  };
  job.tier = tier;
  job.days = days;
  job.packs = packs;
  if (sent > 0) job.requests.push({ at: now, tier, packs: sent });
  saveJob(job);
  return job;
}

async function restoreNow(ctx: Context, repo: Repository, plan: RestorePlan, target: string) {
  const progress = new Progress("restore", !ctx.json && Deno.stderr.isTerminal());
  progress.total(plan.files, plan.bytes);
  try {
    return await executeRestore(repo, plan, {
      target,
      onProgress: (f, b) => progress.set(f, b),
      onWarning: (message) => progress.note(`warning: ${message}`),
    });
  } finally {
    progress.done();
  }
}

/**
 * The objects a restore reads (docs/cost-model.md §10.2): its data packs as the survey found
 * them (as if archived in the cold class when the store reports no classes), its metadata packs
 * from their STANDARD hot copies; one ranged GET per frame.
 */
function objectsRead(plan: RestorePlan, states: PackState[], pricing: RepoPricing): ObjectRead[] {
  const byName = new Map(states.map((s) => [s.name, s]));
  const coldArchived = pricing.table.rules.classes[pricing.coldClass].archived;
  return plan.packs.map((p) => {
    const gets = p.frames.length;
    const readBytes = p.frames.reduce((sum, f) => sum + f.frameLength, 0);
    if (p.metadata) {
      return { storageClass: "STANDARD", bytes: p.length, archived: false, gets, readBytes };
    }
    const s = byName.get(layout.pack(p.pack))!;
    return pricing.asIfS3
      ? {
        storageClass: pricing.coldClass,
        bytes: p.length,
        archived: coldArchived,
        gets,
        readBytes,
      }
      : {
        storageClass: s.storageClass,
        bytes: s.bytes,
        archived: s.availability.state === "archived",
        gets,
        readBytes,
      };
  });
}

function describePlan(plan: RestorePlan, states: PackState[], job?: string) {
  const t = totals(states);
  return {
    snapshot: plan.snapshot,
    path: plan.path,
    files: plan.files,
    dirs: plan.dirs,
    bytes: plan.bytes,
    packs: plan.packs.length,
    packBytes: plan.packBytes,
    readBytes: plan.readBytes,
    cold: t,
    ...(job ? { job } : {}),
    ...(job ? { jobsDir: jobsDir() } : {}),
  };
}

/** The plan as text: what is restored, from which packs, in what state, and how long tiers take. */
function planText(plan: RestorePlan, states: PackState[], tier: RestoreTier): string {
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
