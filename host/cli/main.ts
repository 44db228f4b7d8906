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
import { explain } from "./explain.ts";
import { exitStatus } from "../storage/orderly_close.ts";
import {
  type Command,
  type CommandGroup,
  type OptionTable,
  parseCommandLine,
  scanCommandLine,
  unionOf,
  withSuggestion,
} from "./options.ts";

/**
 * Every command by verb, each loaded by a dynamic import of its `cmd_<verb>.ts` when a command
 * line names it: a run loads only its own command and what that uses (`--help` loads none),
 * which keeps the start of a short command near Deno's own (docs/bench.md "Start-up (issue
 * #16)"). The imports are literal, so `deno check host/cli/main.ts` still checks every command.
 */
export const verbs: Readonly<Record<string, () => Promise<Command | CommandGroup>>> = {
  init: async () => {
    const { cmdInit, initOptions } = await import("./cmd_init.ts");
    return { options: initOptions, run: cmdInit };
  },
  key: async () => (await import("./cmd_key.ts")).keyCommands,
  backup: async () => {
    const { backupOptions, cmdBackup } = await import("./cmd_backup.ts");
    return { options: backupOptions, run: cmdBackup };
  },
  snapshots: async () => {
    const { cmdSnapshots, snapshotsOptions } = await import("./cmd_snapshots.ts");
    return { options: snapshotsOptions, run: cmdSnapshots };
  },
  ls: async () => {
    const { cmdLs, lsOptions } = await import("./cmd_ls.ts");
    return { options: lsOptions, run: cmdLs };
  },
  restore: async () => {
    const { cmdRestore, restoreOptions } = await import("./cmd_restore.ts");
    return { options: restoreOptions, run: cmdRestore };
  },
  find: async () => {
    const { cmdFind, findOptions } = await import("./cmd_find.ts");
    return { options: findOptions, run: cmdFind };
  },
  diff: async () => {
    const { cmdDiff, diffOptions } = await import("./cmd_diff.ts");
    return { options: diffOptions, run: cmdDiff };
  },
  cat: async () => {
    const { catOptions, cmdCat } = await import("./cmd_cat.ts");
    return { options: catOptions, run: cmdCat };
  },
  check: async () => {
    const { checkOptions, cmdCheck } = await import("./cmd_check.ts");
    return { options: checkOptions, run: cmdCheck };
  },
  s3: async () => (await import("./cmd_s3.ts")).s3Commands,
  estimate: async () => (await import("./cmd_estimate.ts")).estimateCommands,
  cost: async () => {
    const { cmdCost, costOptions } = await import("./cmd_cost.ts");
    return { options: costOptions, run: cmdCost };
  },
  serve: async () => {
    const { cmdServe, serveOptions } = await import("./cmd_serve.ts");
    return { options: serveOptions, run: cmdServe };
  },
  prices: async () => (await import("./cmd_prices.ts")).pricesCommands,
  forget: async () => {
    const { cmdForget, forgetOptions } = await import("./cmd_forget.ts");
    return { options: forgetOptions, run: cmdForget };
  },
  rebuild: async () => {
    const { cmdRebuild, rebuildOptions } = await import("./cmd_rebuild.ts");
    return { options: rebuildOptions, run: cmdRebuild };
  },
  gc: async () => (await import("./cmd_gc.ts")).gcCommands,
  worm: async () => (await import("./cmd_worm.ts")).wormCommands,
  sync: async () => (await import("./cmd_sync.ts")).syncCommands,
  plugin: async () => (await import("./cmd_plugin.ts")).pluginCommands,
  schedule: async () => (await import("./cmd_schedule.ts")).scheduleCommands,
  daemon: async () => {
    const { cmdDaemon, daemonOptions } = await import("./cmd_daemon.ts");
    return { options: daemonOptions, run: cmdDaemon };
  },
  mount: async () => {
    const { cmdMount, mountOptions } = await import("./cmd_mount.ts");
    return { options: mountOptions, run: cmdMount };
  },
  umount: async () => {
    const { cmdUmount, umountOptions } = await import("./cmd_umount.ts");
    return { options: umountOptions, run: cmdUmount };
  },
  gateway: async () => {
    const { cmdGateway, gatewayOptions } = await import("./cmd_gateway.ts");
    return { options: gatewayOptions, run: cmdGateway };
  },
  guard: async () => {
    const { cmdGuard, guardOptions } = await import("./cmd_guard.ts");
    return { options: guardOptions, run: cmdGuard };
  },
};

/** Every command, loaded: what a command line only every option table can read needs. */
export async function loadCommands(): Promise<Record<string, Command | CommandGroup>> {
  const loaded = Object.entries(verbs).map(async ([verb, load]) => [verb, await load()] as const);
  return Object.fromEntries(await Promise.all(loaded));
}

/** Each command as users type it ("forget", "gc index"), with its options and what runs it. */
export async function everyCommand(): Promise<{ name: string; command: Command }[]> {
  return Object.entries(await loadCommands()).flatMap(([verb, c]) =>
    "subcommands" in c
      ? Object.entries(c.subcommands).map(([sub, command]) => ({ name: `${verb} ${sub}`, command }))
      : [{ name: verb, command: c }]
  );
}

/** The option tables of a command, or of every subcommand of a group. */
function tablesOf(entry: Command | CommandGroup): OptionTable[] {
  return "subcommands" in entry
    ? Object.values(entry.subcommands).map((c) => c.options)
    : [entry.options];
}

/**
 * `argv`'s positionals and whether it asks for help (`scanCommandLine`), loading as few
 * commands as that takes. A first word that is not an option is the verb whatever the tables
 * say, so the verb's own tables are tried first; a line with an option outside them (one before
 * the verb, or one of another command's) is read again with every command's, as it always was.
 */
async function scan(argv: string[]): Promise<{ positionals: string[]; help: boolean }> {
  const first = argv[0];
  const named = first !== undefined && Object.hasOwn(verbs, first)
    ? await verbs[first]()
    : undefined;
  const quick = scanCommandLine(argv, unionOf(named ? tablesOf(named) : []));
  if (!quick.undeclared) return quick;
  const every = Object.values(await loadCommands()).flatMap(tablesOf);
  return scanCommandLine(argv, unionOf(every));
}

export async function main(argv: string[]): Promise<number> {
  let verb: string | undefined;
  try {
    const scanned = await scan(argv);
    verb = scanned.positionals[0];
    if (!verb || verb === "help") {
      const topic = scanned.positionals[1] ?? "permafrost";
      if (topic !== "permafrost" && !Object.hasOwn(verbs, topic)) {
        throw new UsageError(
          withSuggestion(
            `no help for "${topic}"; commands: ${Object.keys(verbs).join(", ")}`,
            topic,
            Object.keys(verbs),
          ),
        );
      }
      console.log(help(topic));
      return verb ? 0 : scanned.help ? 0 : 2;
    }
    if (!Object.hasOwn(verbs, verb)) {
      throw new UsageError(withSuggestion(`unknown command "${verb}"`, verb, Object.keys(verbs)));
    }
    if (scanned.help) {
      console.log(help(verb));
      return 0;
    }
    const entry = await verbs[verb]();
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
      const topic = verb && Object.hasOwn(verbs, verb) ? `${verb} ` : "";
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
    return `no help for "${topic}"; commands: ${Object.keys(verbs).join(", ")}`;
  }
}

// After a signal, the exit is the signal's (130, 143), however the command unwound meanwhile.
if (import.meta.main) Deno.exit(await exitStatus(await main(Deno.args)));
