/**
 * The cost gate in front of anything that spends money (docs/cost-model.md §10.4): a plan
 * over `--budget USD` is refused before anything is spent (exit status 1); a plan over the
 * confirmation threshold, `PERMAFROST_CONFIRM_USD` (default $1.00), is shown and asked about
 * at a terminal, and needs `--yes` otherwise (exit status 2 without it).
 *
 * @module
 */

import type { Estimate } from "../cost/mod.ts";
import { type Context, UsageError } from "./context.ts";
import { usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";

/** `--budget USD` ({@link budgetFlag}): for a command whose gate is the budget alone. */
export const budgetOption = { budget: { type: "string" } } as const satisfies OptionTable;

/** The options {@link approveCost} reads, for the tables of the commands it gates. */
export const costGateOptions = {
  ...budgetOption,
  yes: { type: "boolean", short: "y" },
} as const satisfies OptionTable;

/** The default of `PERMAFROST_CONFIRM_USD`. */
export const DEFAULT_CONFIRM_USD = 1;

/** A plan whose estimate is over `--budget`: nothing was spent. */
export class OverBudget extends Error {
  override name = "OverBudget";
}

/** The user answered no at the prompt: nothing was spent. */
export class NotConfirmed extends Error {
  override name = "NotConfirmed";
}

/** `--budget USD`, or `undefined`. */
export function budgetFlag(ctx: Context): number | undefined {
  const text = ctx.string("budget");
  if (text === undefined) return undefined;
  const n = Number(text.replace(/^\$/, ""));
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--budget must be an amount of dollars of 0 or more, not "${text}"`);
  }
  return n;
}

/** `PERMAFROST_CONFIRM_USD`, else {@link DEFAULT_CONFIRM_USD}. */
export function confirmThreshold(): number {
  const text = Deno.env.get("PERMAFROST_CONFIRM_USD");
  if (text === undefined || text === "") return DEFAULT_CONFIRM_USD;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`PERMAFROST_CONFIRM_USD must be dollars of 0 or more, not "${text}"`);
  }
  return n;
}

export interface GateOptions {
  /** What is about to be done, for the messages: "the restore requests". */
  action: string;
  /** The estimate as people read it, shown before the question. */
  shown: () => string;
  /** Whether the confirmation threshold applies (else only `--budget`). */
  threshold: boolean;
}

/**
 * Lets `estimate`'s plan go ahead, or throws: {@link OverBudget} over `--budget`; over the
 * threshold, a `UsageError` without `--yes` when stdin is not a terminal, and
 * {@link NotConfirmed} when the user does not answer yes.
 */
export async function approveCost(ctx: Context, e: Estimate, options: GateOptions): Promise<void> {
  const budget = budgetFlag(ctx);
  if (budget !== undefined && e.total_usd > budget) {
    throw new OverBudget(
      `${options.action} would cost about ${usd(e.total_usd)} (estimate), over the budget of ` +
        `$${ctx.string("budget")!.replace(/^\$/, "")} (--budget); nothing was done. ` +
        `See the items with --estimate`,
    );
  }
  if (!options.threshold || ctx.bool("yes")) return;
  const threshold = confirmThreshold();
  if (e.total_usd <= threshold) return;
  const over = `${options.action} would cost about ${usd(e.total_usd)} (estimate), more than ` +
    `PERMAFROST_CONFIRM_USD (${usd(threshold)})`;
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(`${over}: add --yes to go ahead (--estimate shows the items)`);
  }
  console.error(options.shown());
  console.error("");
  const answer = await readLine(`${over}. Go ahead? [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmed("not confirmed; nothing was done");
}

/** Prints `prompt` to stderr and reads one line from stdin. */
export async function readLine(prompt: string): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(prompt));
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  while (true) {
    const n = await Deno.stdin.read(buf);
    if (n === null || buf[0] === 10) break;
    bytes.push(buf[0]);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
