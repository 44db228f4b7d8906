/**
 * `check --read-data-subset N%|N [--tier T] [--days N] [--wait] [--poll S]`: making a sample of
 * packs readable before `check` reads them whole. Plan (the sample, `host/ops/check_sample.ts`,
 * and one `stat` per sampled pack), price (docs/cost-model.md §10.3), gate (`confirm.ts`), then
 * request restores of the sampled packs that are archived (`host/cold/restore_requests.ts`) and either wait
 * (`--wait`) or stop with exit status 4 and the command that picks the same sample again.
 * Nothing is saved between runs: the seed, printed, makes the rerun pick the same packs.
 *
 * @module
 */

import { isReadable, totals } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes } from "../cold/restore_times.ts";
import { parseSubset, type SubsetSpec } from "../ops/check_sample.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import {
  planCheckSample,
  prepareCheckSample,
  priceCheckSample,
  type Sample,
} from "../workflows/check_sample.ts";
import { TierNotOffered } from "../workflows/thaw.ts";
import { approveCost } from "./confirm.ts";
import { bytes, type Context, UsageError } from "./context.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { cliPricing } from "./pricing.ts";
import { destinationFlag, readEstimateJson, readEstimateText } from "./read_estimate.ts";
import {
  POLL_SECONDS,
  restoresRequested,
  surveyLine,
  thawFlags,
  tierUsage,
  WAITING,
} from "./thaw_flags.ts";

export type { Sample } from "../workflows/check_sample.ts";
export { wholePackReads } from "../workflows/check_sample.ts";

/** Days restored copies are kept (and priced), unless `--days`: check reads them at once. */
export const CHECK_DAYS = 1;
const DEFAULT_TIER: RestoreTier = "standard";

/** `--read-data-subset`, parsed; a usage error naming the mistake. */
export function subsetFlag(text: string): SubsetSpec {
  try {
    return parseSubset(text);
  } catch (err) {
    throw new UsageError(`--read-data-subset: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * Picks, prices and thaws the sample (host/workflows/check_sample.ts). Resolves with the
 * sample once every sampled pack is readable, or with the exit status when the command ends
 * here (0 after `--estimate`, 4 while restores run without `--wait`).
 */
export async function prepareSample(
  ctx: Context,
  repo: Repository,
  location: string,
  spec: SubsetSpec,
): Promise<{ sample: Sample } | { status: number }> {
  const flags = thawFlags(ctx, { tier: DEFAULT_TIER, days: CHECK_DAYS });
  const { days } = flags;
  const plan = await planCheckSample(repo, spec);
  const { sample, packs, names, states } = plan;
  const pricing = cliPricing(ctx, repo, location);
  if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, false);
  // `--tier`, else the default when the sampled packs' classes offer it, else their cheapest.
  const r = priceCheckSample(plan, pricing, {
    days,
    tier: ctx.string("tier") as RestoreTier | undefined,
    fallback: flags.tier,
    to: destinationFlag(ctx),
  });
  const { objects } = r;
  const tier = r.chosen.tier ?? flags.tier;
  const metadata = packs.filter((p) => p.metadata).length;
  const title = `check --read-data-subset ${sample.subset}: read ${packs.length} of ${sample.of} ` +
    `packs whole (sample seed ${sample.seed}), ${objects.length} objects (metadata packs ` +
    `twice, cold and hot copy: ${metadata})`;
  const surveyed = [...states.values()];
  const missing = names.filter((n) => !states.has(n));
  const notes = [
    "archived packs of the sample are restored by check itself (--tier, --days), then read",
    `restored copies are priced for ${days} day${days === 1 ? "" : "s"} (--days)`,
    ...(missing.length > 0
      ? [`${missing.length} sampled packs are missing (check reports them) and are not priced`]
      : []),
    ...(pricing.note ? [pricing.note] : []),
  ];
  if (ctx.bool("estimate")) {
    const summary = {
      ...sample,
      metadata_packs: metadata,
      objects: objects.length,
      bytes: objects.reduce((sum, o) => sum + o.readBytes, 0),
      cold: totals(surveyed),
    };
    ctx.print(
      readEstimateJson(r, summary, notes),
      () => readEstimateText(title, r, pricing, notes),
    );
    return { status: 0 };
  }

  const outcome = await prepareCheckSample(repo, plan, {
    pricing,
    estimate: r,
    days,
    tier,
    approve: async (e) => {
      await approveCost(ctx, e.chosen.estimate, {
        action: "check --read-data-subset",
        shown: () => readEstimateText(title, r, pricing, notes),
        threshold: true,
      });
      return true;
    },
    onRequested: (sent) => {
      if (ctx.json) return;
      const t = totals(surveyed);
      const times = [
        ...new Set(surveyed.filter((s) => !isReadable(s)).map((s) => s.storageClass)),
      ].flatMap((c) => {
        const h = restoreTimes[c]?.[tier];
        return h ? [`${c} ${tier} restores take ${describeHours(h)}`] : [];
      });
      console.error(
        `sample seed ${sample.seed}: ${packs.length} of ${sample.of} packs; ` +
          `${t.archived.packs} archived (${bytes(t.archived.bytes)}), ${t.restoring.packs} ` +
          `being restored; ${restoresRequested(sent, tier, days)}` +
          (times.length > 0 ? `; ${times.join("; ")}` : ""),
      );
    },
    wait: flags.wait
      ? {
        intervalSeconds: flags.poll ?? POLL_SECONDS[tier],
        onSurvey: (s) => surveyLine(ctx, s, "sampled packs"),
      }
      : undefined,
  }).catch((err) => {
    // The workflow names the tiers; the CLI names the flag that picks one.
    if (err instanceof TierNotOffered) throw tierUsage(err);
    throw err;
  });
  if (outcome.status === "declined") return { status: 1 };
  if (outcome.status === "waiting") {
    const rerun = `permafrost check --read-data-subset ${sample.subset}`;
    ctx.print(
      {
        ...sample,
        cold: totals(outcome.states),
        requested: outcome.sent,
        tier,
        days,
        waiting: true,
        rerun,
      },
      () =>
        `sampled packs are being restored from cold storage; run \`${rerun}\` again later ` +
        `to read them (it picks the same packs; add --wait to wait for them)`,
    );
    return { status: WAITING };
  }
  return { sample };
}
