/**
 * `worm status [PATH...] [--source NAME]...`: the protected files (every file of a `worm`
 * source, the never-change files of any other) against the disk, without backing up
 * (`host/ops/protection_status.ts`, docs/engines.md). Exit status 5 when any changed or
 * vanished, as for `backup`.
 *
 * `worm forget PATH... | --source NAME... [--dry-run] [--yes]`: stops protecting the files at or
 * under each PATH (a source moved, renamed or deleted on purpose) by dropping their entries from
 * this machine's protection ledger (`host/ops/protection_forget.ts`), after showing them and a
 * confirmation.
 *
 * @module
 */

import { resolve } from "node:path";
import { ledgerFile, ProtectionLedger } from "../cache/protection_ledger.ts";
import { protectionStatus, type SourceStatus } from "../ops/protection_status.ts";
import {
  executeProtectionForget,
  planProtectionForget,
  type ProtectionForgetPlan,
} from "../ops/protection_forget.ts";
import { pickSources } from "../config/mod.ts";
import {
  bytes,
  type Context,
  jsonOption,
  plural,
  printable,
  repoOptions,
  UsageError,
} from "./context.ts";
import { NotConfirmed, readLine } from "./confirm.ts";
import type { CommandGroup, OptionTable } from "./options.ts";
import { findingLines, PROTECTED_CHANGED } from "./cmd_backup.ts";

export const wormStatusOptions = {
  ...repoOptions,
  ...jsonOption,
  source: { type: "string", multiple: true },
} as const satisfies OptionTable;

export const wormForgetOptions = {
  ...wormStatusOptions,
  "dry-run": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
} as const satisfies OptionTable;

/** The absolute paths the command names: its PATHs, or the paths of `--source` NAMEs. */
function targetPaths(ctx: Context): string[] {
  const names = ctx.strings("source");
  if (names.length > 0 && ctx.positionals.length > 0) {
    throw new UsageError("give PATHs or --source NAME, not both");
  }
  return names.length > 0
    ? pickSources(ctx.configuration(), names).flatMap((s) => s.paths.map((p) => resolve(p)))
    : ctx.positionals.map((p) => resolve(p));
}

async function cmdWormStatus(ctx: Context): Promise<number> {
  const paths = targetPaths(ctx);
  const repo = await ctx.open();
  try {
    const file = ledgerFile(ctx.cacheDir(), repo.config.id);
    const ledger = new ProtectionLedger(file, { readOnly: true });
    let sources;
    try {
      sources = await protectionStatus(
        repo,
        ledger,
        paths,
        (note) => console.error(`note: ${note}`),
      );
    } finally {
      ledger.close();
    }
    const findings = sources.flatMap((s) => s.findings);
    ctx.print({ sources }, () => {
      if (sources.length === 0) {
        return "no protected files on this machine" +
          (paths.length > 0 ? ` under ${paths.map(printable).join(", ")}` : "") +
          " (back up with --engine worm or --never-change GLOB)";
      }
      return [
        ...sources.map((s) =>
          `${printable(s.source)} (${s.engine}): ${plural(s.files, "protected file")}, ` +
          `${bytes(s.bytes)}; ${s.findings.filter((f) => f.kind === "changed").length} changed, ` +
          `${s.findings.filter((f) => f.kind === "vanished").length} vanished` +
          (s.gone ? " (the source itself is gone from this disk)" : "")
        ),
        ...findingLines(findings, false),
        ...goneLines(sources),
      ].join("\n");
    });
    return findings.length > 0 ? PROTECTED_CHANGED : 0;
  } finally {
    await repo.storage.close();
  }
}

/**
 * The way out for sources that are gone from the disk: a backup refuses a source that does not
 * exist, so `--accept-changes` cannot clear their files.
 */
function goneLines(sources: SourceStatus[]): string[] {
  const gone = [...new Set(sources.filter((s) => s.gone).map((s) => s.source))];
  if (gone.length === 0) return [];
  return [
    `  ${gone.length === 1 ? "a source is" : "sources are"} gone from this disk: if ` +
    `${gone.length === 1 ? "it was" : "they were"} moved or renamed on purpose, back up the ` +
    "new path, and stop protecting the old one with:",
    ...gone.map((s) => `    permafrost worm forget ${shellQuote(s)}`),
  ];
}

async function cmdWormForget(ctx: Context): Promise<number> {
  const paths = targetPaths(ctx);
  if (paths.length === 0) {
    throw new UsageError("worm forget needs a PATH or --source NAME: what to stop protecting");
  }
  const dryRun = ctx.bool("dry-run");
  const repo = await ctx.open();
  try {
    const file = ledgerFile(ctx.cacheDir(), repo.config.id);
    const ledger = new ProtectionLedger(file, { readOnly: dryRun });
    try {
      const plan = planProtectionForget(ledger, paths);
      if (!dryRun) await confirmForget(ctx, plan);
      if (!dryRun) executeProtectionForget(ledger, plan);
      ctx.print({ dryRun, ...plan }, () =>
        [
          ...planLines(plan, dryRun),
          dryRun
            ? "dry run: nothing was dropped"
            : "dropped from this machine's protection ledger: no backup or worm status reports " +
              "them any more; the snapshots that hold their originals are kept",
        ].join("\n"));
      return 0;
    } finally {
      ledger.close();
    }
  } finally {
    await repo.storage.close();
  }
}

/** What the plan drops, one source a line, with what the user should know before. */
function planLines(plan: ProtectionForgetPlan, dryRun: boolean): string[] {
  const lines = [
    `${dryRun ? "would stop" : "stopped"} protecting ${plural(plan.files, "file")} ` +
    `(${bytes(plan.bytes)} as first stored):`,
  ];
  for (const item of plan.items) {
    const what = item.whole
      ? `all ${plural(item.paths.length, "protected file")}`
      : item.paths.length <= 3
      ? item.paths.map((p) => `"${printable(p)}"`).join(", ")
      : plural(item.paths.length, "protected file");
    const held = item.snapshots.map((s) => s.slice(0, 8)).join(", ");
    lines.push(
      `  ${printable(item.source)} (${item.engine}): ${what}, ${bytes(item.bytes)}; originals ` +
        `in snapshot ${held}` +
        (item.sourceGone ? "; the source is gone from this disk" : "") +
        (item.onDisk > 0
          ? `; ${plural(item.onDisk, "file is", "files are")} still on disk: the next backup ` +
            "of the source protects them again, as they are then"
          : ""),
    );
  }
  return lines;
}

/**
 * Shows the plan and asks at a terminal, unless `--yes`; without a terminal and without
 * `--yes`, a `UsageError` (exit status 2) before anything is dropped.
 */
async function confirmForget(ctx: Context, plan: ProtectionForgetPlan): Promise<void> {
  if (ctx.bool("yes")) return;
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      `worm forget would stop protecting ${plural(plan.files, "file")}: add --yes to go ` +
        "ahead (--dry-run lists them)",
    );
  }
  console.error(planLines(plan, true).join("\n"));
  const answer = await readLine("Stop protecting them? [y/N] ");
  if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmed("not confirmed; nothing was done");
}

/** `text` quoted for a POSIX shell when it needs to be. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

const subcommands = {
  status: { options: wormStatusOptions, run: cmdWormStatus },
  forget: { options: wormForgetOptions, run: cmdWormForget },
};

export const wormCommands: CommandGroup = {
  subcommands,
  refuse(sub) {
    return new UsageError(
      sub === undefined
        ? "worm needs a subcommand: status, forget"
        : `unknown worm subcommand "${sub}"; the subcommands are: status, forget`,
    );
  },
};
