/**
 * `gc purge [--grace DUR] [--accept-early-fee] [--dry-run | --estimate] [--budget USD]
 * [--yes]`: admin only, the one stage that deletes packs (host/ops/gc_purge.ts). Prints the
 * plan: what is deleted, what waits for its minimum storage duration (with the date it becomes
 * free), what is too recent (the grace period); with `--accept-early-fee` the young packs are
 * deleted too, after the fee is shown and passes the cost gate.
 *
 * @module
 */

import { estimate, lineItem, noTime } from "../cost/estimate.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { DEFAULT_GRACE_MS, executePurge, planPurge, type PurgePlan } from "../ops/gc_purge.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { graceFlag } from "./grace_flag.ts";
import { cliPricing, regionOption } from "./pricing.ts";

export const gcPurgeOptions = {
  ...repoOptions,
  ...jsonOption,
  ...costGateOptions,
  ...regionOption,
  grace: { type: "string" },
  "accept-early-fee": { type: "boolean" },
  "dry-run": { type: "boolean" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

export async function cmdGcPurge(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const graceMs = graceFlag(ctx, DEFAULT_GRACE_MS);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "gc purge"); // before anything is listed
    await proveDeleteAllowed(repo, "gc purge");
    const pricing = cliPricing(ctx, repo, location);
    noteUnbilledBudget(ctx, pricing, location, false);
    const acceptEarlyFee = ctx.bool("accept-early-fee");
    const plan = await planPurge(repo, {
      table: pricing.table,
      graceMs,
      acceptEarlyFee,
      // A plain folder or SQLite file bills nothing, and has no minimum storage duration.
      minimumDurations: !pricing.asIfS3,
    });
    const shown = () => planText(plan);
    if (ctx.bool("dry-run") || ctx.bool("estimate")) {
      ctx.print({ ...planJson(plan), dryRun: true }, shown);
      return 0;
    }
    if (plan.earlyFeeUsd > 0 && !pricing.asIfS3) {
      const fees = estimate(
        pricing.table,
        plan.delete.filter((c) => c.earlyFeeUsd > 0).map((c) =>
          lineItem(`early deletion of pack ${c.pack.slice(0, 12)}`, 1, "pack", c.earlyFeeUsd)
        ),
        noTime,
      );
      await approveCost(ctx, fees, { action: "gc purge", shown, threshold: true });
    }
    if (!ctx.json) console.error(shown());
    const result = await executePurge(repo, plan);
    ctx.print(
      { ...planJson(plan), result },
      () =>
        `deleted ${plural(result.deletedPacks, "pack")} (${bytes(result.bytes)}, ` +
        `${plural(result.deletedObjects, "object")}) and ` +
        `${plural(result.deletedSegments, "superseded index segment")}` +
        (result.rescued > 0
          ? `; ${plural(result.rescued, "retired pack")} ${were(result.rescued)} indexed again`
          : "") +
        (result.namedAgain > 0
          ? `; ${plural(result.namedAgain, "pack")} ${
            were(result.namedAgain)
          } kept, as a backup indexed them meanwhile`
          : "") +
        (result.keptForNewSnapshots > 0
          ? `; ${plural(result.keptForNewSnapshots, "pack")} ${
            were(result.keptForNewSnapshots)
          } kept, as a backup committed a snapshot ` +
            "meanwhile: run `permafrost gc purge` again to collect them"
          : "") +
        (result.removedStrays > 0
          ? `; removed ${result.removedStrays} partial uploads (${bytes(result.strayBytes)})`
          : ""),
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}

/** The plan as `--json` prints it: rescued packs by id, not with their blob lists. */
function planJson({ snapshots: _, ...plan }: PurgePlan) {
  return { ...plan, rescue: plan.rescue.map((p) => p.pack) };
}

function planText(plan: PurgePlan): string {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const lines = [
    `delete: ${plural(plan.delete.length, "pack")} (${bytes(plan.bytes)}), saving ${
      usd(plan.monthlySavingUsd)
    } a month` +
    (plan.earlyFeeUsd > 0 ? `, early-deletion fee ${usd(plan.earlyFeeUsd)}` : ""),
  ];
  for (const c of plan.delete.slice(0, 10)) {
    lines.push(
      `  ${c.pack.slice(0, 12)}  ${c.reason}  ${bytes(c.bytes)}  ${c.storageClass}  ` +
        `${c.ageDays} days old${c.earlyFeeUsd > 0 ? `  fee ${usd(c.earlyFeeUsd)}` : ""}`,
    );
  }
  if (plan.young.length > 0) {
    lines.push(
      `wait:   ${plural(plan.young.length, "pack")} (${
        bytes(sum(plan.young.map((c) => c.bytes)))
      }) are inside their minimum storage duration; deleting them now would cost ${
        usd(sum(plan.young.map((c) => c.earlyFeeUsd)))
      } (--accept-early-fee), the same as keeping them:`,
    );
    for (const c of plan.young.slice(0, 10)) {
      lines.push(`  ${c.pack.slice(0, 12)}  free on ${c.freeOn}  ${bytes(c.bytes)}`);
    }
  }
  if (plan.grace.length > 0) {
    lines.push(
      `later:  ${plural(plan.grace.length, "pack")} ${
        were(plan.grace.length)
      } retired or written within the grace period ` +
        "(--grace); a running backup may still need them",
    );
  }
  if (plan.rescue.length > 0) {
    lines.push(
      `rescue: ${
        plural(plan.rescue.length, "retired pack")
      } hold blobs a snapshot needs (a backup used ` +
        "them after the compaction); they are indexed again, not deleted",
    );
  }
  lines.push(`index:  ${plural(plan.segments.length, "superseded segment")} to delete`);
  if (plan.strayCopies.length > 0) {
    lines.push(
      `stray:  ${plural(plan.strayCopies.length, "hot copy", "hot copies")} whose pack is gone`,
    );
  }
  if (plan.strays.length > 0 || plan.youngStrays > 0) {
    lines.push(
      `stray:  ${plan.strays.length} partial uploads of interrupted writes (${
        bytes(sum(plan.strays.map((s) => s.size)))
      }) to remove` +
        (plan.youngStrays > 0 ? `; ${plan.youngStrays} within the grace period are left` : ""),
    );
  }
  if (plan.straysRefused !== undefined) {
    lines.push(`stray:  partial uploads could not be listed: ${plan.straysRefused}`);
  }
  return lines.join("\n");
}

/** "was" for one, else "were". */
function were(n: number): string {
  return n === 1 ? "was" : "were";
}
