/**
 * `cost [--region R] [--json]`: prints the repository's monthly bill and its 12-month
 * projection (`host/ops/repository_bill.ts`, docs/cost-model.md §11), and the dead data's share
 * from the latest `gc mark`.
 *
 * @module
 */

import { type DeadData, PROJECTION_MONTHS, repositoryBill } from "../ops/repository_bill.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";

export const costOptions = {
  ...repoOptions,
  ...jsonOption,
  ...regionOption,
} as const satisfies OptionTable;

export async function cmdCost(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    const pricing = cliPricing(ctx, repo, location);
    const bill = await repositoryBill(repo, pricing);
    const { projection, totals } = bill;
    ctx.print(bill, () =>
      [
        render(
          `this month's storage bill for ${location}: ${plural(totals.objects, "object")}, ${
            bytes(totals.bytes)
          }`,
          bill,
          pricing.table,
        ),
        "",
        "objects:",
        ...bill.objects.map((k) =>
          `  ${String(k.objects).padStart(6)}  ${k.kind} (${k.storage_class}), ${bytes(k.bytes)}`
        ),
        "",
        `every later month: ${usd(bill.recurring_usd)} (the same bytes, no restored copies)`,
        `next ${PROJECTION_MONTHS} months: ` +
        projection.months.map((m, i) => `${m} ${usd(projection.usd[i])}`).join(", "),
        `  total ${usd(projection.cumulative_usd[PROJECTION_MONTHS - 1])}`,
        `dead data: ${deadDataText(bill.dead_data)}`,
        ...bill.notes.map((n) => `note: ${n}`),
      ].join("\n"));
    return 0;
  } finally {
    await repo.storage.close();
  }
}

/** "12.3% of the monthly bill, $0.0012 a month, 40.0 MiB (from the gc mark of ...)". */
export function deadDataText(dead: DeadData): string {
  if (dead.share === null || dead.usd === null) return dead.note;
  return `${(dead.share * 100).toFixed(1)}% of the monthly bill, ${usd(dead.usd)} a month` +
    `${dead.bytes !== null ? `, ${bytes(dead.bytes)}` : ""} (${dead.note})`;
}
