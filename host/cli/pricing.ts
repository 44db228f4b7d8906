/**
 * The CLI side of pricing (host/workflows/pricing.ts has the logic): `--region`, and the
 * pricing of an opened repository with the command's `--region` and warnings on stderr.
 *
 * @module
 */

import type { PriceTable } from "../cost/mod.ts";
import type { Repository } from "../repository/repository.ts";
import * as workflow from "../workflows/pricing.ts";
import type { Context } from "./context.ts";
import type { OptionTable } from "./options.ts";

export type { RepoPricing } from "../workflows/pricing.ts";
export { cachedPricePath, knownRegion } from "../workflows/pricing.ts";

/** `--region R`, which {@link cliPricing} reads: for the tables of the commands that price. */
export const regionOption = { region: { type: "string" } } as const satisfies OptionTable;

/** Warnings of pricing (a cached table passed over), on stderr. */
export const warnOnStderr = (message: string) => console.error(`warning: ${message}`);

/** The pricing of `repo`, opened at `location`, with `--region` when the command has it. */
export function cliPricing(ctx: Context, repo: Repository, location: string): workflow.RepoPricing {
  return workflow.repoPricing(repo, {
    region: ctx.options && !Object.hasOwn(ctx.options, "region") ? undefined : ctx.string("region"),
    name: location,
    onWarning: warnOnStderr,
  });
}

/** The table of `region` (see host/workflows/pricing.ts), warnings on stderr. */
export function priceTableOf(region: string): PriceTable {
  return workflow.priceTableOf(region, { onWarning: warnOnStderr });
}
