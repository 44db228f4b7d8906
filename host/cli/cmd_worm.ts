/**
 * `worm status [PATH...] [--source NAME]...`: the protected files (every file of a `worm`
 * source, the never-change files of any other) against the disk, without backing up
 * (`host/ops/protection_status.ts`, docs/engines.md). Exit status 5 when any changed or
 * vanished, as for `backup`.
 *
 * @module
 */

import { resolve } from "node:path";
import { ledgerFile, ProtectionLedger } from "../cache/protection_ledger.ts";
import { protectionStatus } from "../ops/protection_status.ts";
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
import type { CommandGroup, OptionTable } from "./options.ts";
import { findingLines, PROTECTED_CHANGED } from "./cmd_backup.ts";

export const wormStatusOptions = {
  ...repoOptions,
  ...jsonOption,
  source: { type: "string", multiple: true },
} as const satisfies OptionTable;

async function cmdWormStatus(ctx: Context): Promise<number> {
  const names = ctx.strings("source");
  if (names.length > 0 && ctx.positionals.length > 0) {
    throw new UsageError("give PATHs or --source NAME, not both");
  }
  const paths = names.length > 0
    ? pickSources(ctx.configuration(), names).flatMap((s) => s.paths.map((p) => resolve(p)))
    : ctx.positionals.map((p) => resolve(p));
  const repo = await ctx.open();
  try {
    const ledger = new ProtectionLedger(ledgerFile(ctx.cacheDir(), repo.config.id));
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
          `${s.findings.filter((f) => f.kind === "vanished").length} vanished`
        ),
        ...findingLines(findings, false),
      ].join("\n");
    });
    return findings.length > 0 ? PROTECTED_CHANGED : 0;
  } finally {
    await repo.storage.close();
  }
}

const subcommands = { status: { options: wormStatusOptions, run: cmdWormStatus } };

export const wormCommands: CommandGroup = {
  subcommands,
  refuse(sub) {
    return new UsageError(
      sub === undefined
        ? "worm needs a subcommand: status"
        : `unknown worm subcommand "${sub}"; the subcommands are: status`,
    );
  },
};
