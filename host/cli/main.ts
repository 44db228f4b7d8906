/**
 * `permafrost`: parses the command line, runs one command, prints, and sets the exit status.
 * Thin by design: every command is a `cmd_<verb>.ts` calling the library.
 *
 * Exit status: 0 ok; 1 failure (or `diff` found differences); 2 usage; 3 `check` found problems;
 * 5 protected files changed or vanished (`backup`, `worm status`: docs/engines.md); 4 waiting for packs to come out of cold storage (`restore`, whose job was saved; `check
 * --read-data-subset`, `gc compact` and `rebuild`, which are run again); 130 or 143 stopped by
 * SIGINT or SIGTERM once the storage calls under way finished (`host/storage/orderly_close.ts`;
 * `serve` stops on them and exits 0).
 *
 * @module
 */

import { Context, UsageError } from "./context.ts";
import { backupOptions, cmdBackup } from "./cmd_backup.ts";
import { catOptions, cmdCat } from "./cmd_cat.ts";
import { checkOptions, cmdCheck } from "./cmd_check.ts";
import { cmdDiff, diffOptions } from "./cmd_diff.ts";
import { cmdFind, findOptions } from "./cmd_find.ts";
import { cmdInit, initOptions } from "./cmd_init.ts";
import { keyCommands } from "./cmd_key.ts";
import { cmdLs, lsOptions } from "./cmd_ls.ts";
import { cmdRestore, restoreOptions } from "./cmd_restore.ts";
import { s3Commands } from "./cmd_s3.ts";
import { cmdSnapshots, snapshotsOptions } from "./cmd_snapshots.ts";
import { estimateCommands } from "./cmd_estimate.ts";
import { cmdCost, costOptions } from "./cmd_cost.ts";
import { cmdServe, serveOptions } from "./cmd_serve.ts";
import { pricesCommands } from "./cmd_prices.ts";
import { cmdForget, forgetOptions } from "./cmd_forget.ts";
import { cmdRebuild, rebuildOptions } from "./cmd_rebuild.ts";
import { gcCommands } from "./cmd_gc.ts";
import { wormCommands } from "./cmd_worm.ts";
import { explain } from "./explain.ts";
import { exitStatus } from "../storage/orderly_close.ts";
import {
  type Command,
  type CommandGroup,
  parseCommandLine,
  scanCommandLine,
  unionOf,
  withSuggestion,
} from "./options.ts";

/** Every command, with the options it takes (`options.ts`); groups have subcommands. */
export const commands: Record<string, Command | CommandGroup> = {
  init: { options: initOptions, run: cmdInit },
  key: keyCommands,
  backup: { options: backupOptions, run: cmdBackup },
  snapshots: { options: snapshotsOptions, run: cmdSnapshots },
  ls: { options: lsOptions, run: cmdLs },
  restore: { options: restoreOptions, run: cmdRestore },
  find: { options: findOptions, run: cmdFind },
  diff: { options: diffOptions, run: cmdDiff },
  cat: { options: catOptions, run: cmdCat },
  check: { options: checkOptions, run: cmdCheck },
  s3: s3Commands,
  estimate: estimateCommands,
  cost: { options: costOptions, run: cmdCost },
  serve: { options: serveOptions, run: cmdServe },
  prices: pricesCommands,
  forget: { options: forgetOptions, run: cmdForget },
  rebuild: { options: rebuildOptions, run: cmdRebuild },
  gc: gcCommands,
  worm: wormCommands,
};

/** Each command as users type it ("forget", "gc index"), with its options and what runs it. */
export function everyCommand(): { name: string; command: Command }[] {
  return Object.entries(commands).flatMap(([verb, c]) =>
    "subcommands" in c
      ? Object.entries(c.subcommands).map(([sub, command]) => ({ name: `${verb} ${sub}`, command }))
      : [{ name: verb, command: c }]
  );
}

const everyOption = unionOf(everyCommand().map((c) => c.command.options));

export async function main(argv: string[]): Promise<number> {
  let verb: string | undefined;
  try {
    const scanned = scanCommandLine(argv, everyOption);
    verb = scanned.positionals[0];
    if (!verb || verb === "help") {
      const topic = scanned.positionals[1] ?? "permafrost";
      if (topic !== "permafrost" && !Object.hasOwn(commands, topic)) {
        throw new UsageError(
          withSuggestion(
            `no help for "${topic}"; commands: ${Object.keys(commands).join(", ")}`,
            topic,
            Object.keys(commands),
          ),
        );
      }
      console.log(help(topic));
      return verb ? 0 : scanned.help ? 0 : 2;
    }
    const entry = Object.hasOwn(commands, verb) ? commands[verb] : undefined;
    if (!entry) {
      throw new UsageError(
        withSuggestion(`unknown command "${verb}"`, verb, Object.keys(commands)),
      );
    }
    if (scanned.help) {
      console.log(help(verb));
      return 0;
    }
    // Which command, then its own options: all of it before anything is opened or asked.
    const { name, command, words } = resolve(verb, entry, scanned.positionals[1]);
    const parsed = parseCommandLine(name, command.options, argv);
    const ctx = new Context(parsed.positionals.slice(words), parsed.values, command.options);
    try {
      return await command.run(ctx);
    } finally {
      ctx.reportWarnings();
    }
  } catch (err) {
    const { message, status } = explain(err);
    console.error(`permafrost: ${message}`);
    if (status === 2) {
      const topic = verb && Object.hasOwn(commands, verb) ? `${verb} ` : "";
      console.error(`run "permafrost ${topic}--help" for usage`);
    }
    if (Deno.env.get("PERMAFROST_DEBUG") && err instanceof Error) console.error(err.stack);
    return status;
  }
}

/** The command `verb` (and `sub`, for a group) names, and how many positionals name it. */
function resolve(
  verb: string,
  entry: Command | CommandGroup,
  sub: string | undefined,
): { name: string; command: Command; words: number } {
  if (!("subcommands" in entry)) return { name: verb, command: entry, words: 1 };
  if (sub === undefined || !Object.hasOwn(entry.subcommands, sub)) {
    const refusal = entry.refuse(sub);
    const names = Object.keys(entry.subcommands);
    if (names.length === 1) throw refusal; // which already names the one there is
    throw new UsageError(
      withSuggestion(
        refusal.message,
        sub,
        names,
        (near) => `"${verb} ${near}"`,
      ),
    );
  }
  return { name: `${verb} ${sub}`, command: entry.subcommands[sub], words: 2 };
}

function help(topic: string): string {
  try {
    return Deno.readTextFileSync(new URL(`../../docs/cli/${topic}.txt`, import.meta.url)).trimEnd();
  } catch {
    return `no help for "${topic}"; commands: ${Object.keys(commands).join(", ")}`;
  }
}

// After a signal, the exit is the signal's (130, 143), however the command unwound meanwhile.
if (import.meta.main) Deno.exit(await exitStatus(await main(Deno.args)));
