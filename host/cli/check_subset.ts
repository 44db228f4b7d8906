/**
 * `check --read-data-subset N%|N [--tier T] [--days N] [--wait] [--poll S]`: making a sample of
 * packs readable before `check` reads them whole. Plan (the sample, `host/ops/check_sample.ts`,
 * and one `stat` per sampled pack), price (docs/cost-model.md §10.3), gate (`confirm.ts`), then
 * request restores of the sampled packs that are archived (`host/cold/thaw.ts`) and either wait
 * (`--wait`) or stop with exit status 4 and the command that picks the same sample again.
 * Nothing is saved between runs: the seed, printed, makes the rerun pick the same packs.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { isReadable, type PackState, surveyPacks, totals } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes } from "../cold/restore_times.ts";
import { requestThaw } from "../cold/thaw.ts";
import {
  defaultSeed,
  parseSubset,
  pickSample,
  sampleSize,
  type SubsetSpec,
  subsetText,
} from "../ops/check_sample.ts";
import type { PackInfo } from "../repository/index.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import { approveCost } from "./confirm.ts";
import { bytes, type Context, UsageError } from "./context.ts";
import { type RepoPricing, repoPricing } from "./pricing.ts";
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
  WAITING,
  waitUntilReadable,
} from "./thaw_step.ts";

/** Days restored copies are kept (and priced), unless `--days`: check reads them at once. */
export const CHECK_DAYS = 1;
const DEFAULT_TIER: RestoreTier = "standard";

/** The sample a check reads: what was asked, the seed, and the packs picked. */
export interface Sample {
  subset: string;
  seed: string;
  /** Sampled pack ids, in the seed's order. */
  packs: string[];
  /** Indexed packs sampled from. */
  of: number;
}

/** `--read-data-subset`, parsed; a usage error naming the mistake. */
export function subsetFlag(text: string): SubsetSpec {
  try {
    return parseSubset(text);
  } catch (err) {
    throw new UsageError(`--read-data-subset: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * Picks, prices and thaws the sample. Resolves with the sample once every sampled pack is
 * readable, or with the exit status when the command ends here (0 after `--estimate`, 4 while
 * restores run without `--wait`).
 */
export async function prepareSample(
  ctx: Context,
  repo: Repository,
  location: string,
  spec: SubsetSpec,
): Promise<{ sample: Sample } | { status: number }> {
  const flags = thawFlags(ctx, { tier: DEFAULT_TIER, days: CHECK_DAYS });
  const { days } = flags;
  // Before anything is restored: the check that follows reads trees (`ops/check.ts`).
  requirePrivateKey(repo.keys, "trees, so it cannot check the repository");

  await repo.loadIndex();
  const all = [...repo.index.packs()];
  const seed = spec.seed ?? defaultSeed();
  const ids = pickSample(all.map((p) => p.id), seed, sampleSize(spec, all.length));
  const sample: Sample = { subset: subsetText(spec, seed), seed, packs: ids, of: all.length };
  const packs = ids.map((id) => repo.index.pack(id)!);
  const names = packs.map((p) => layout.pack(p.id));
  const states = await surveyPresent(repo.storage, names);

  const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
  const objects = wholePackReads(packs, pricing, (p) => states.get(layout.pack(p.id)) ?? null);
  const r = priceReads(ctx, pricing, objects, days, flags.tier);
  // `--tier`, else the default when the sampled packs' classes offer it, else their cheapest.
  const tier = r.chosen.tier ?? flags.tier;
  const metadata = packs.filter((p) => p.metadata).length;
  const title =
    `check --read-data-subset ${sample.subset}: read ${packs.length} of ${all.length} ` +
    `packs whole (sample seed ${seed}), ${objects.length} objects (metadata packs twice, cold ` +
    `and hot copy: ${metadata})`;
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
    const plan = {
      ...sample,
      metadata_packs: metadata,
      objects: objects.length,
      bytes: objects.reduce((sum, o) => sum + o.readBytes, 0),
      cold: totals(surveyed),
    };
    ctx.print(
      readEstimateJson(r, plan, notes),
      () => readEstimateText(title, r, pricing, notes),
    );
    return { status: 0 };
  }
  checkTierOffered(surveyed, tier);
  if (!pricing.asIfS3) {
    await approveCost(ctx, r.chosen.estimate, {
      action: "check --read-data-subset",
      shown: () => readEstimateText(title, r, pricing, notes),
      threshold: true,
    });
  }

  if (surveyed.every(isReadable)) return { sample };
  const sent = await requestThaw(repo.storage, surveyed, { tier, days });
  const t = totals(surveyed);
  const times = [...new Set(surveyed.filter((s) => !isReadable(s)).map((s) => s.storageClass))]
    .flatMap((c) => {
      const h = restoreTimes[c]?.[tier];
      return h ? [`${c} ${tier} restores take ${describeHours(h)}`] : [];
    });
  if (!ctx.json) {
    console.error(
      `sample seed ${seed}: ${packs.length} of ${all.length} packs; ${t.archived.packs} archived ` +
        `(${bytes(t.archived.bytes)}), ${t.restoring.packs} being restored; ` +
        restoresRequested(sent, tier, days) + (times.length > 0 ? `; ${times.join("; ")}` : ""),
    );
  }
  if (!flags.wait) {
    const rerun = `permafrost check --read-data-subset ${sample.subset}`;
    ctx.print(
      { ...sample, cold: t, requested: sent, tier, days, waiting: true, rerun },
      () =>
        `sampled packs are being restored from cold storage; run \`${rerun}\` again later ` +
        `to read them (it picks the same packs; add --wait to wait for them)`,
    );
    return { status: WAITING };
  }
  await waitUntilReadable(
    ctx,
    repo.storage,
    [...states.keys()],
    { tier, days, poll: flags.poll },
    "sampled packs",
  );
  return { sample };
}

/**
 * The objects reading `packs` whole takes (docs/cost-model.md §10.3): each pack's cold copy, in
 * the class and state `stateOf` gives (as if archived in the cold class when the store reports
 * none, or the pack was not surveyed), and each metadata pack's STANDARD hot copy; one GET each.
 * A pack `stateOf` says is missing (`null`) is left out.
 */
export function wholePackReads(
  packs: PackInfo[],
  pricing: RepoPricing,
  stateOf: (p: PackInfo) => PackState | null | undefined,
): ObjectRead[] {
  const coldArchived = pricing.table.rules.classes[pricing.coldClass].archived;
  const objects: ObjectRead[] = [];
  for (const p of packs) {
    const stated = stateOf(p);
    if (stated === null) continue;
    const s = pricing.asIfS3 ? undefined : stated;
    const whole = { bytes: p.length, gets: 1, readBytes: p.length };
    objects.push(
      s
        ? { ...whole, storageClass: s.storageClass, archived: s.availability.state === "archived" }
        : { ...whole, storageClass: pricing.coldClass, archived: coldArchived },
    );
    if (p.metadata) objects.push({ ...whole, storageClass: "STANDARD", archived: false });
  }
  return objects;
}

/** Surveys `names`, leaving out packs the store does not have (`check` reports those). */
async function surveyPresent(storage: Storage, names: string[]): Promise<Map<string, PackState>> {
  let states: PackState[];
  try {
    states = await surveyPacks(storage, names);
  } catch (err) {
    if (!(err instanceof ObjectNotFound)) throw err;
    const stored = new Set((await storage.list(layout.prefixes.pack)).map((o) => o.name));
    states = await surveyPacks(storage, names.filter((n) => stored.has(n)));
  }
  return new Map(states.map((s) => [s.name, s]));
}
