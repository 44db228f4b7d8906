/**
 * What `backup` is asked to back up, read from the command line and the configuration file
 * (docs/config.md) before anything is opened: `backup PATH...` is one backup of those paths;
 * `backup` with no path backs up every configured source, `--source NAME` (repeatable) the
 * sources named, each one snapshot with its engine, filters and tags. Filters and tags given on
 * the command line add to a source's. Every mistake (a flag, the file, an exclude file that
 * cannot be read, an engine that is not installed) is thrown here, so none is found halfway.
 *
 * @module
 */

import type { SourceFilters } from "../ops/backup_filters.ts";
import { DEFAULT_ENGINE } from "../ops/backup.ts";
import { builtinNames, notInstalled, pluginNames } from "../plugin/registry.ts";
import {
  checkEngines,
  type Config,
  ConfigError,
  pickSources,
  type SourceConfig,
} from "../config/mod.ts";
import { parseSize } from "../text/size.ts";
import { type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

/** The options that say what to back up and what to leave out. */
export const backupSourceOptions = {
  source: { type: "string", multiple: true },
  engine: { type: "string" },
  tag: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "exclude-file": { type: "string", multiple: true },
  "exclude-if-present": { type: "string", multiple: true },
  "exclude-larger-than": { type: "string" },
  "git-ignore": { type: "boolean" },
  filter: { type: "string", multiple: true },
  "never-change": { type: "string", multiple: true },
  "accept-changes": { type: "boolean" },
} as const satisfies OptionTable;

/** One backup, one snapshot: the command line's paths, or one configured source. */
export interface BackupJob {
  /** The configured source's name; undefined for paths given on the command line. */
  source?: string;
  paths: string[];
  engine: string;
  /** The source's `engine_config`, which the engine checks. */
  engineOptions: Record<string, unknown>;
  tags: string[];
  filters: SourceFilters;
  /** Never-change globs (docs/engines.md): the source's and the command line's. */
  neverChange: string[];
}

/**
 * The backups the command line asks for, checked: the paths it gives, or the configured sources
 * (all, or those `--source` names). Throws a UsageError for a mistake on the command line and a
 * ConfigError, at its line, for one in the file.
 */
export function backupJobs(ctx: Context): BackupJob[] {
  const flags = commandLineFilters(ctx);
  const names = ctx.strings("source");
  const engine = ctx.string("engine");
  if (engine !== undefined && !pluginNames("engine").includes(engine)) {
    throw new UsageError(`--engine: ${notInstalled("engine", engine)}`);
  }
  if (ctx.positionals.length > 0) {
    if (names.length > 0) {
      throw new UsageError("give PATHs or --source NAME, not both");
    }
    return [{
      paths: ctx.positionals,
      engine: engine ?? DEFAULT_ENGINE,
      engineOptions: {},
      tags: ctx.strings("tag"),
      filters: flags,
      neverChange: ctx.strings("never-change"),
    }];
  }
  const config = ctx.configuration();
  if (config.sources.length === 0 && names.length === 0) {
    throw new UsageError(
      "backup needs at least one PATH, or a configuration file with [[source]] tables " +
        (config.file === undefined
          ? "(none found; see docs/config.md)"
          : `(${config.file} has none)`),
    );
  }
  if (engine !== undefined) {
    throw new UsageError(
      "--engine is for PATHs given on the command line; a configured source names its own engine",
    );
  }
  checkEngines(config, pluginNames("engine"));
  return pickSources(config, names).map((s) =>
    sourceJob(config, s, ctx.strings("tag"), flags, ctx.strings("never-change"))
  );
}

/** The backup of configured source `s`, with the command line's tags and filters added. */
function sourceJob(
  config: Config,
  s: SourceConfig,
  tags: string[],
  flags: SourceFilters,
  neverChange: string[],
): BackupJob {
  const file = config.file ?? "(configuration)";
  let fromFile: string[] = [];
  if (s.excludeFile !== undefined) {
    try {
      fromFile = readPatterns(s.excludeFile);
    } catch (err) {
      throw new ConfigError(
        file,
        s.fieldLines.exclude_file ?? s.line,
        `source "${s.name}": exclude_file "${s.excludeFile}" cannot be read: ${
          (err as Error).message
        }`,
      );
    }
  }
  return {
    source: s.name,
    paths: [...s.paths],
    engine: s.engine,
    engineOptions: { ...s.engineConfig },
    tags: [...new Set([...s.tags, ...tags])],
    filters: {
      excludes: [...s.exclude, ...fromFile, ...flags.excludes ?? []],
      gitIgnore: s.gitIgnore || flags.gitIgnore === true,
      excludeIfPresent: [...new Set([...s.excludeIfPresent, ...flags.excludeIfPresent ?? []])],
      excludeLargerThan: smaller(s.excludeLargerThan, flags.excludeLargerThan),
      plugins: flags.plugins,
    },
    neverChange: [...new Set([...s.neverChange, ...neverChange])],
  };
}

/** The filters the command line gives (`--exclude`, `--exclude-file`, ...), checked. */
function commandLineFilters(ctx: Context): SourceFilters {
  const excludes = [...ctx.strings("exclude")];
  for (const file of ctx.strings("exclude-file")) {
    try {
      excludes.push(...readPatterns(file));
    } catch (err) {
      throw new UsageError(`--exclude-file "${file}" cannot be read: ${(err as Error).message}`);
    }
  }
  const tags = ctx.strings("exclude-if-present");
  for (const name of tags) {
    if (name === "" || name === "." || name === ".." || name.includes("/")) {
      throw new UsageError(`--exclude-if-present "${name}" is not a file name (a name has no "/")`);
    }
  }
  return {
    excludes,
    gitIgnore: ctx.bool("git-ignore"),
    excludeIfPresent: tags,
    excludeLargerThan: sizeFlag(ctx, "exclude-larger-than"),
    plugins: ctx.strings("filter").map(filterFlag),
  };
}

/**
 * `--filter NAME` or `--filter 'NAME={"key":"value"}'`: an installed filter plugin
 * (docs/plugins.md §7.5) and its config (`{}` when none is given).
 */
function filterFlag(text: string): { name: string; config: unknown } {
  const at = text.indexOf("=");
  const name = at < 0 ? text : text.slice(0, at);
  if (builtinNames("filter").includes(name)) {
    throw new UsageError(
      `--filter ${name}: a built-in filter; use --exclude or --git-ignore instead`,
    );
  }
  if (!pluginNames("filter").includes(name)) {
    throw new UsageError(`--filter: ${notInstalled("filter", name)}`);
  }
  if (at < 0) return { name, config: {} };
  try {
    return { name, config: JSON.parse(text.slice(at + 1)) };
  } catch (err) {
    throw new UsageError(`--filter ${name}: its config is not JSON (${(err as Error).message})`);
  }
}

/** `--NAME SIZE` in bytes, or undefined when not given. */
function sizeFlag(ctx: Context, name: string): number | undefined {
  const text = ctx.string(name);
  if (text === undefined) return undefined;
  try {
    return parseSize(text);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/**
 * The patterns of an exclude file, UTF-8: one a line (a CR before the LF is dropped), as
 * `--exclude` takes them; empty lines and `#` comments are no patterns.
 */
export function readPatterns(file: string): string[] {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(Deno.readFileSync(file));
  return text.split("\n").map((line) => line.replace(/\r$/, "")).filter((line) =>
    line !== "" && !line.startsWith("#")
  );
}

function smaller(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
