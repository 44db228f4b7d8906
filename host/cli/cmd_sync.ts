/**
 * `sync prune [--grace DUR] [--early] [--estimate] [--budget USD] [--yes] [--region R]
 * [--json]`: admin only, deletes the mirrored objects (versions) of `sync` snapshots that no
 * snapshot names any more (`host/ops/sync_prune.ts`, docs/engines.md `sync`). Prints the plan:
 * what is deleted, what waits for its minimum storage duration (with the date it becomes free),
 * what is too recent (the grace period); `--early` deletes the young ones too, after their fee
 * passed the cost gate. Deleting asks at a terminal, and needs `--yes` elsewhere.
 *
 * @module
 */

import { estimate, lineItem, noTime } from "../cost/estimate.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import {
  DEFAULT_PRUNE_GRACE_MS,
  executeSyncPrune,
  planSyncPrune,
  type SyncPrunePlan,
} from "../ops/sync_prune.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { approveCost, costGateOptions, NotConfirmed, readLine } from "./confirm.ts";
import { usd } from "./estimate_render.ts";
import type { CommandGroup, OptionTable } from "./options.ts";
import { graceFlag } from "./grace_flag.ts";
import { cliPricing, regionOption } from "./pricing.ts";

export const syncPruneOptions = {
  ...repoOptions,
  ...jsonOption,
  ...costGateOptions,
  ...regionOption,
  grace: { type: "string" },
  early: { type: "boolean" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

export async function cmdSyncPrune(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const graceMs = graceFlag(ctx, DEFAULT_PRUNE_GRACE_MS);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "sync prune"); // before anything is listed
    await proveDeleteAllowed(repo, "sync prune");
    const pricing = cliPricing(ctx, repo, location);
    const plan = await planSyncPrune(repo, {
      table: pricing.table,
      graceMs,
      early: ctx.bool("early"),
      // A plain folder or SQLite file bills nothing, and has no minimum storage duration.
      minimumDurations: !pricing.asIfS3,
    });
    const shown = () => planText(plan);
    if (ctx.bool("estimate")) {
      ctx.print({ ...plan, dryRun: true }, shown);
      return 0;
    }
    if (plan.earlyFeeUsd > 0) {
      const fees = estimate(
        pricing.table,
        plan.delete.filter((c) => c.earlyFeeUsd > 0).map((c) =>
          lineItem(`early deletion of "${c.name}"`, 1, "object", c.earlyFeeUsd)
        ),
        noTime,
      );
      await approveCost(ctx, fees, { action: "sync prune", shown, threshold: true });
    }
    if (plan.delete.length > 0) await confirmDelete(ctx, plan, shown);
    const result = await executeSyncPrune(repo, plan);
    ctx.print(
      { ...plan, result },
      () =>
        `deleted ${plural(result.deleted, "mirrored object")} (${bytes(result.bytes)})` +
        (result.keptForNewSnapshots > 0
          ? `; ${result.keptForNewSnapshots} kept, as a backup committed a snapshot naming them`
          : ""),
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}

/** Shows the plan and asks at a terminal, unless `--yes`; elsewhere `--yes` is needed. */
async function confirmDelete(ctx: Context, plan: SyncPrunePlan, shown: () => string) {
  if (!ctx.json) console.error(shown());
  if (ctx.bool("yes")) return;
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      `sync prune would delete ${plural(plan.delete.length, "mirrored object")}: add --yes ` +
        "to go ahead (or --estimate to see the plan only)",
    );
  }
  const answer = await readLine("Delete them? [y/N] ");
  if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmed("not confirmed; nothing was done");
}

function planText(plan: SyncPrunePlan): string {
  const lines = [
    `delete: ${plural(plan.delete.length, "mirrored object")} (${bytes(plan.bytes)})` +
    (plan.earlyFeeUsd > 0 ? `, early-deletion fee ${usd(plan.earlyFeeUsd)}` : ""),
  ];
  for (const c of plan.delete.slice(0, 10)) {
    lines.push(
      `  ${c.name}${c.version ? ` (version ${c.version})` : ""}  ${bytes(c.bytes)}  ` +
        `${c.storageClass}  ${c.ageDays} days old` +
        (c.earlyFeeUsd > 0 ? `  fee ${usd(c.earlyFeeUsd)}` : ""),
    );
  }
  if (plan.young.length > 0) {
    lines.push(
      `wait:   ${plural(plan.young.length, "object")} inside their minimum storage duration ` +
        `(--early deletes them, paying ${usd(plan.young.reduce((s, c) => s + c.earlyFeeUsd, 0))}):`,
    );
    for (const c of plan.young.slice(0, 10)) lines.push(`  ${c.name}  free on ${c.freeOn}`);
  }
  if (plan.grace > 0) {
    lines.push(
      `later:  ${plural(plan.grace, "object")} written within the grace period (--grace); a ` +
        "running backup may still need them",
    );
  }
  lines.push(`keep:   ${plural(plan.referenced, "object")} a snapshot names`);
  return lines.join("\n");
}

export const syncCommands: CommandGroup = {
  subcommands: { prune: { options: syncPruneOptions, run: cmdSyncPrune } },
  refuse(sub) {
    return new UsageError(
      sub === undefined
        ? "sync needs a subcommand: prune"
        : `unknown sync subcommand "${sub}"; the subcommands are: prune`,
    );
  },
};
