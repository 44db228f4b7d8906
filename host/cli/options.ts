/**
 * Command-line options. Each command declares the options it takes in a table beside its code
 * (`export const forgetOptions = {...}` in `cmd_forget.ts`; groups several commands share sit
 * beside the code that reads them: `repoOptions` in `context.ts`, `thawOptions` in
 * `thaw_flags.ts`, `costGateOptions` in `confirm.ts`, `jobOptions` in `job_flags.ts`), and the
 * command line is parsed with that table alone, strictly: an option the command does not take
 * is a usage error naming the option and the command, raised before the command runs, so
 * before anything is opened or asked. `--help` is every command's.
 *
 * Parsing goes in two steps, because which table applies depends on a positional (the verb,
 * and for `gc`, `key`, `s3`, `estimate` and `prices` the subcommand) that may follow options:
 * {@link scanCommandLine} finds the positionals with every table at once, then
 * {@link parseCommandLine} parses with the chosen command's table.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Context, type Flags, UsageError } from "./context.ts";
import { closest } from "../text/did_you_mean.ts";

export { closest, editDistance, withSuggestion } from "../text/did_you_mean.ts";

/** One option: a string (`--tier bulk`) or a flag (`--dry-run`), repeatable when `multiple`. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
}

/** The options a command takes, by long name without the dashes. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A command: the options it takes, and what runs it with the parsed command line. */
export interface Command {
  readonly options: OptionTable;
  run(ctx: Context): Promise<number>;
}

/** A command made of subcommands (`gc mark`, `key passwd`), each with its own options. */
export interface CommandGroup {
  readonly subcommands: Readonly<Record<string, Command>>;
  /** The usage error for a missing (`undefined`) or unknown subcommand. */
  refuse(name: string | undefined): UsageError;
}

/** `-h`, `--help`: every command takes it. */
export const helpOption = { help: { type: "boolean", short: "h" } } as const satisfies OptionTable;

/**
 * Every table in one, so that a first pass knows which options take a value and finds the
 * positionals wherever the options are. A name two tables declare differently is a bug.
 */
export function unionOf(tables: OptionTable[]): OptionTable {
  const union: Record<string, OptionSpec> = { ...helpOption };
  for (const table of tables) {
    for (const [name, spec] of Object.entries(table)) {
      const known = union[name];
      if (
        known && (known.type !== spec.type || known.multiple !== spec.multiple ||
          known.short !== spec.short)
      ) {
        throw new TypeError(`bug: --${name} is declared two ways by the commands' option tables`);
      }
      union[name] = spec;
    }
  }
  return union;
}

/**
 * The positionals of `argv`, and whether it asks for help, read with `union` (every command's
 * options) and no complaint: which command applies is not known yet. An option no table
 * declares is read as a flag; the command's own parse refuses it. Help is asked by `-h` or
 * `--help` standing alone: an `h` among grouped short options (`-dash`, a path mistyped
 * without `--`) is not a request for help but a mistake, which the command's parse refuses.
 *
 * `undeclared` says whether `argv` has an option outside `union`. When it has none, a larger
 * union (tables never declare one name two ways, {@link unionOf}) reads `argv` the same way:
 * so a scan with the tables of the commands `argv` names is as good as one with every table.
 */
export function scanCommandLine(
  argv: string[],
  union: OptionTable,
): { positionals: string[]; help: boolean; undeclared: boolean } {
  const { positionals, tokens } = parseArgs({
    args: argv,
    options: union,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const help = tokens.some((t) =>
    t.kind === "option" && t.name === "help" && argv[t.index] === t.rawName
  );
  const undeclared = tokens.some((t) => t.kind === "option" && !Object.hasOwn(union, t.name));
  return { positionals, help, undeclared };
}

/**
 * `argv` parsed with the table of `command` (its name as users type it: "forget", "gc
 * index") plus `--help`. An option outside the table is a {@link UsageError}
 * (`"forget" does not take --estimate`), as is a value missing or given to a flag.
 */
export function parseCommandLine(
  command: string,
  table: OptionTable,
  argv: string[],
): { positionals: string[]; values: Flags } {
  const options = { ...table, ...helpOption };
  const { tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind === "option" && !Object.hasOwn(options, t.name)) {
      const arg = argv[t.index];
      // `-dash`: grouped short options, or more likely a path that starts with "-".
      const path = arg !== t.rawName && !arg.startsWith("--")
        ? ` (in "${arg}"; an argument that starts with "-" goes after "--")`
        : "";
      const near = t.rawName.startsWith("--") ? closest(t.name, Object.keys(options)) : undefined;
      const hint = near === undefined ? "" : `; did you mean --${near}?`;
      throw new UsageError(`"${command}" does not take ${t.rawName}${path}${hint}`);
    }
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { positionals, values: values as Flags };
  } catch (err) {
    // node:util's own wording ("Option '--tier <value>' argument missing"), as a usage error.
    if (err instanceof TypeError) throw new UsageError(`"${command}": ${err.message}`);
    throw err;
  }
}

/**
 * A usage error for the first positional past the `most` a command takes: a word it would
 * ignore (`forget 3f2a --keep-last 5` forgets by the policy alone) is a mistake to point out.
 */
export function refuseExtraArguments(ctx: Context, most: number): void {
  const extra = ctx.positionals[most];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
}
