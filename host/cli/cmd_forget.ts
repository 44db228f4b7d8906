import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { executeForget, type ForgetPlan, planForget } from "../ops/forget.ts";
import {
  groupKey,
  hasRule,
  type KeepDecision,
  type KeepPolicy,
  parseDuration,
} from "../ops/keep_policy.ts";
import { type Context, jsonOption, plural, printable, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

const counts = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;

/** Deleting manifests is free: a dry run, no `--estimate`. */
export const forgetOptions = {
  ...repoOptions,
  ...jsonOption,
  "keep-last": { type: "string" },
  "keep-hourly": { type: "string" },
  "keep-daily": { type: "string" },
  "keep-weekly": { type: "string" },
  "keep-monthly": { type: "string" },
  "keep-yearly": { type: "string" },
  "keep-within": { type: "string" },
  "keep-tag": { type: "string", multiple: true },
  host: { type: "string" },
  path: { type: "string", multiple: true },
  tag: { type: "string", multiple: true },
  "include-worm": { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `forget --keep-last N ... [--keep-within DUR] [--keep-tag T] [--host H] [--path P] [--tag T]
 * [--dry-run]`: admin only; prints the plan, then (unless `--dry-run`) deletes the forgotten
 * snapshots' manifests one by one. Packs and index segments are left for garbage collection.
 */
export async function cmdForget(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const policy = policyFlags(ctx);
  const repo = await ctx.open();
  try {
    assertAdmin(repo, "forget"); // before anything is listed
    await proveDeleteAllowed(repo, "forget");
    const plan = await planForget(repo, policy, {
      host: ctx.string("host"),
      paths: ctx.strings("path"),
      tags: ctx.strings("tag"),
      includeWorm: ctx.bool("include-worm"),
    });
    const dryRun = ctx.bool("dry-run");
    if (!ctx.json) console.log(planText(plan));
    const deleted = dryRun ? [] : await executeForget(repo, plan, (id) => {
      if (!ctx.json) console.log(`forgot ${id.slice(0, 8)}`);
    });
    ctx.print(
      {
        dryRun,
        keep: plan.keep,
        forget: plan.forget,
        deleted,
        disagreements: plan.disagreements,
        fallbacks: plan.fallbacks,
        dating: plan.dating,
        untouched: plan.untouched,
      },
      () =>
        dryRun
          ? `dry run: nothing was deleted (${
            plural(plan.forget.length, "snapshot")
          } would be forgotten)`
          : `forgot ${
            plural(deleted.length, "snapshot")
          }, kept ${plan.keep.length}; their data stays in ` +
            "the packs until garbage collection",
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}

/** The keep policy from the flags; a `UsageError` when none is given or one is malformed. */
function policyFlags(ctx: Context): KeepPolicy {
  const policy: KeepPolicy = {};
  for (const name of counts) {
    const text = ctx.string(`keep-${name}`);
    if (text === undefined) continue;
    if (!/^[1-9]\d*$/.test(text)) {
      throw new UsageError(`--keep-${name} needs a positive whole number, not "${text}"`);
    }
    policy[name] = Number(text);
  }
  const within = ctx.string("keep-within");
  if (within !== undefined) {
    try {
      parseDuration(within);
    } catch (err) {
      throw new UsageError(`--keep-within: ${(err as Error).message}`);
    }
    policy.within = within;
  }
  const tags = ctx.strings("keep-tag");
  if (tags.length > 0) policy.tags = tags;
  if (!hasRule(policy)) {
    throw new UsageError(
      "forget needs a keep policy (--keep-last, --keep-hourly, --keep-daily, --keep-weekly, " +
        "--keep-monthly, --keep-yearly, --keep-within or --keep-tag); without one it would " +
        "forget every snapshot",
    );
  }
  return policy;
}

/** The plan, group by group: kept snapshots with their reasons, then forgotten ones. */
function planText(plan: ForgetPlan): string {
  const lines: string[] = [];
  const groups = new Map<string, { keep: KeepDecision[]; forget: KeepDecision[] }>();
  for (const [list, side] of [[plan.keep, "keep"], [plan.forget, "forget"]] as const) {
    for (const s of list) {
      const key = groupKey(s);
      if (!groups.has(key)) groups.set(key, { keep: [], forget: [] });
      groups.get(key)![side].push(s);
    }
  }
  const flagged = new Set([...plan.disagreements, ...plan.fallbacks].map((d) => d.id));
  const row = (verb: string, s: KeepDecision) =>
    `  ${verb}  ${s.id.slice(0, 8)}  ${s.time.replace("T", " ").slice(0, 19)}  ${
      printable(s.tags.join(",") || "-")
    }${s.reasons.length > 0 ? `  (${s.reasons.join(", ")})` : ""}${flagged.has(s.id) ? "  !" : ""}`;
  for (const key of [...groups.keys()].sort()) {
    const { keep, forget } = groups.get(key)!;
    const [host, paths] = JSON.parse(key) as [string, string[]];
    lines.push(
      `host ${printable(host)}, paths ${printable(paths.join(" "))}: keep ${keep.length}, ` +
        `forget ${forget.length}`,
    );
    for (const s of keep) lines.push(row("keep  ", s));
    for (const s of forget) lines.push(row("forget", s));
  }
  if (groups.size === 0) lines.push("no snapshots match");
  if (plan.untouched > 0) {
    lines.push(
      `${plural(plan.untouched, "snapshot")} not selected by --host/--path/--tag are left alone`,
    );
  }
  for (const d of plan.disagreements) {
    lines.push(
      `! ${d.id.slice(0, 8)}: claimed time disagrees with the store; the store's time was used ` +
        `(claimed ${d.claimed}, store ${d.store})`,
    );
  }
  for (const f of plan.fallbacks) {
    lines.push(
      `! ${f.id.slice(0, 8)}: dated by its manifest's store time (which a rebuild resets), ` +
        `not by the pack of its details: ${f.reason}`,
    );
  }
  return lines.join("\n");
}
