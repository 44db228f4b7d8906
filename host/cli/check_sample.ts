/**
 * The CLI side of `check --read-data-subset N%|N [--tier T] [--days N] [--wait] [--poll S]`
 * (host/workflows/check_sample.ts has the flow: pick and survey the sample, price it, the cost
 * gate, restore requests, waiting): its flags, and what it prints. `--estimate` prints the price
 * and ends; without `--wait` a sample still being restored ends with exit status 4 and the
 * command that picks the same sample again (the seed, printed, makes a rerun pick it).
 *
 * @module
 */

import { isReadable, totals } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes } from "../cold/restore_times.ts";
import type { SubsetSpec } from "../ops/sample_pick.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { CHECK_DAYS } from "../workflows/check_read.ts";
import {
  planCheckSample,
  prepareCheckSample,
  priceCheckSample,
  type Sample,
  type SampleEstimate,
  sampleEstimateReport,
  type SampleOutcome,
  type SamplePlan,
} from "../workflows/check_sample.ts";
import { approveCost } from "./confirm.ts";
import { bytes, type Context } from "./context.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { cliPricing } from "./pricing.ts";
import { destinationFlag, readEstimateText } from "./read_estimate.ts";
import { restoresRequested, thawFlags, thawWait, WAITING, withTierFlag } from "./thaw_flags.ts";

/** The tier sampled packs are restored at unless `--tier` (else their classes' cheapest). */
const DEFAULT_TIER: RestoreTier = "standard";

/**
 * Picks, prices and thaws the sample. Resolves with the sample once every sampled pack is
 * readable, or with the exit status when the command ends here (0 after `--estimate`, 1 when
 * declined, 4 while restores run without `--wait`).
 */
export async function checkSample(
  ctx: Context,
  repo: Repository,
  location: string,
  spec: SubsetSpec,
): Promise<{ sample: Sample } | { status: number }> {
  const flags = thawFlags(ctx, { tier: DEFAULT_TIER, days: CHECK_DAYS });
  const { days } = flags;
  const plan = await planCheckSample(repo, spec);
  const pricing = cliPricing(ctx, repo, location);
  if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, false);
  // `--tier`, else the default when the sampled packs' classes offer it, else their cheapest.
  const estimate = priceCheckSample(plan, pricing, {
    days,
    tier: ctx.string("tier") as RestoreTier | undefined,
    fallback: flags.tier,
    to: destinationFlag(ctx),
  });
  const title = estimateTitle(plan, estimate);
  const shown = () => readEstimateText(title, estimate, pricing, estimate.notes);
  if (ctx.bool("estimate")) {
    ctx.print(sampleEstimateReport(estimate), shown);
    return { status: 0 };
  }
  const outcome = await withTierFlag(() =>
    prepareCheckSample(repo, plan, {
      pricing,
      estimate,
      days,
      tier: flags.tier,
      approve: async (e) => {
        const action = "check --read-data-subset";
        await approveCost(ctx, e.chosen.estimate, { action, shown, threshold: true });
        return true;
      },
      onRequested: (sent, tier) =>
        !ctx.json && console.error(requestedLine(plan, sent, tier, days)),
      wait: thawWait(ctx, flags, estimate.chosen.tier ?? flags.tier, "sampled packs"),
    })
  );
  return outcome.status === "readable"
    ? { sample: outcome.sample }
    : { status: printStop(ctx, outcome, days) };
}

function estimateTitle({ sample }: SamplePlan, e: SampleEstimate): string {
  return `check --read-data-subset ${sample.subset}: read ${sample.packs.length} of ` +
    `${sample.of} packs whole (sample seed ${sample.seed}), ${e.objects.length} objects ` +
    `(metadata packs twice, cold and hot copy: ${e.summary.metadata_packs})`;
}

/** What was requested, with how long the tier takes for each class still archived. */
function requestedLine(plan: SamplePlan, sent: number, tier: RestoreTier, days: number): string {
  const { sample } = plan;
  const surveyed = [...plan.states.values()];
  const t = totals(surveyed);
  const classes = new Set(surveyed.filter((s) => !isReadable(s)).map((s) => s.storageClass));
  const times = [...classes].flatMap((c) => {
    const h = restoreTimes[c]?.[tier];
    return h ? [`${c} ${tier} restores take ${describeHours(h)}`] : [];
  });
  return `sample seed ${sample.seed}: ${sample.packs.length} of ${sample.of} packs; ` +
    `${t.archived.packs} archived (${bytes(t.archived.bytes)}), ${t.restoring.packs} ` +
    `being restored; ${restoresRequested(sent, tier, days)}` +
    (times.length > 0 ? `; ${times.join("; ")}` : "");
}

/** The command ends before the check: declined (1), or packs on their way ({@link WAITING}). */
function printStop(
  ctx: Context,
  outcome: Exclude<SampleOutcome, { status: "readable" }>,
  days: number,
): number {
  if (outcome.status === "declined") return 1;
  const { sample, sent, tier } = outcome;
  const rerun = `permafrost check --read-data-subset ${sample.subset}`;
  ctx.print(
    { ...sample, cold: totals(outcome.states), requested: sent, tier, days, waiting: true, rerun },
    () =>
      `sampled packs are being restored from cold storage; run \`${rerun}\` again later ` +
      `to read them (it picks the same packs; add --wait to wait for them)`,
  );
  return WAITING;
}
