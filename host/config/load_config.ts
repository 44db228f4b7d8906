/**
 * Reading the configuration file: finding it (`config_location.ts`), parsing its TOML with
 * smol-toml, and validating every field, so that a mistake is one message naming the file and
 * the line before anything runs (docs/config.md).
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { withSuggestion } from "../text/did_you_mean.ts";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { Fields, isTable, type Table } from "./_fields.ts";
import { ConfigError } from "./config_error.ts";
import { configLocation, type Env, expandHome, homeOf } from "./config_location.ts";
import {
  engineNotInstalled,
  readSource,
  type SourceConfig,
  type SourceContext,
} from "./source_config.ts";
import { TomlLines } from "./toml_lines.ts";

/** A configuration, validated; with no file, no repository and no sources. */
export interface Config {
  /** The file it was read from; undefined when there was none (no default file). */
  readonly file?: string;
  /** `repository`: a location as `--repo` takes it; a plain path is absolute. */
  readonly repository?: string;
  /** The `[[source]]` tables in the file's order; their names are unique. */
  readonly sources: readonly SourceConfig[];
}

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** The value of `--config`, when given. */
  readonly config?: string;
  /** PERMAFROST_CONFIG, XDG_CONFIG_HOME and HOME; the process's environment by default. */
  readonly env?: Env;
  /** The installed engines; when given, a source naming another is an error at its line. */
  readonly engines?: readonly string[];
}

/** The keys the file may have at its top. */
const topFields = ["repository", "source"] as const;

/**
 * The configuration `--config`, PERMAFROST_CONFIG or the default file holds (first found);
 * `{ sources: [] }` when the default file does not exist. A file named by `--config` or
 * PERMAFROST_CONFIG that does not exist, a file that cannot be read or is not UTF-8, and any
 * mistake in it reject with {@link ConfigError}; an empty `--config` with TypeError.
 */
export function loadConfig(options: LoadOptions = {}): Promise<Config> {
  return Promise.resolve().then(() => loadConfigSync(options));
}

/** {@link loadConfig}, reading the file synchronously (it is small): throws what it rejects. */
export function loadConfigSync(options: LoadOptions = {}): Config {
  const env = options.env ?? Deno.env.toObject();
  const location = configLocation(options.config, env);
  if (location === undefined) return { sources: [] };
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(location.path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      if (!location.required) return { sources: [] };
      throw new ConfigError(location.path, undefined, `no such file (named by ${location.from})`);
    }
    throw new ConfigError(location.path, undefined, `cannot be read: ${(err as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(location.path, undefined, "is not UTF-8 text, as TOML must be");
  }
  return parseConfig(text, location.path, { env, engines: options.engines });
}

/**
 * The configuration in `text`, the contents of `file` (which names it in messages and whose
 * folder a relative `exclude_file` is in). Every mistake is a {@link ConfigError} at its line.
 */
export function parseConfig(
  text: string,
  file: string,
  options: { env?: Env; engines?: readonly string[] } = {},
): Config {
  const document = parseToml(text, file);
  const top = new Fields({ file, lines: TomlLines.scan(text) }, [], document, "");
  const home = homeOf(options.env ?? {});
  top.onlyKnown(topFields);
  const repository = readRepository(top, home);
  const sources = readSources(top, {
    home,
    folder: dirname(resolve(file)),
    engines: options.engines,
  });
  return { file, ...(repository === undefined ? {} : { repository }), sources };
}

/** The document, or a ConfigError at the line and column of its first syntax error. */
function parseToml(text: string, file: string): Table {
  try {
    // "throw": a key such as `__proto__` could reach an engine through engine_config.
    return parse(text, { unsafeKeyBehaviour: "throw" });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <what>" and then the lines around it.
    const what = err.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
    throw new ConfigError(file, err.line, `not valid TOML: ${what} (column ${err.column})`);
  }
}

function readSources(top: Fields, context: SourceContext): SourceConfig[] {
  const list = top.table.source;
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every(isTable)) {
    top.fail("source", "source must be a list of tables: write each source as [[source]]");
  }
  const sources: SourceConfig[] = [];
  list.forEach((table, i) => {
    const fields = new Fields(top.where, ["source", i], table, `source #${i + 1}: `);
    const source = readSource(fields, context);
    const first = sources.find((s) => s.name === source.name);
    if (first !== undefined) {
      throw new ConfigError(
        top.where.file,
        source.fieldLines.name,
        `source "${source.name}" is named twice (first on line ${first.fieldLines.name})`,
      );
    }
    sources.push(source);
  });
  return sources;
}

/** `repository`: any `scheme:` location as it is, or a plain path, which must be absolute. */
function readRepository(top: Fields, home: string | undefined): string | undefined {
  const location = top.string("repository");
  if (location === undefined) return undefined;
  if (location === "") top.fail("repository", "repository is empty");
  // The scheme as host/storage/open.ts reads it: `local:`, `sqlite:`, `s3:`.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(location)) return location;
  let path: string;
  try {
    path = expandHome(location, home);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    top.fail("repository", `repository ${err.message}`);
  }
  if (!isAbsolute(path)) {
    top.fail(
      "repository",
      `repository "${location}" is a relative path; write it from "/" or "~/", or give a ` +
        `location such as s3://BUCKET/PREFIX`,
    );
  }
  return path;
}

/**
 * Refuses, at its line, the first source whose engine is not among `engines` (the installed
 * ones), as {@link loadConfig} does when given them: for a command that reads the file before
 * it knows whether it needs the engines.
 */
export function checkEngines(config: Config, engines: readonly string[]): void {
  for (const s of config.sources) {
    if (engines.includes(s.engine)) continue;
    throw new ConfigError(
      config.file ?? "(configuration)",
      s.fieldLines.engine ?? s.line,
      `source "${s.name}": ${engineNotInstalled(s.engine, engines)}`,
    );
  }
}

/**
 * The sources `names` asks for (`backup --source NAME`), in that order and each once; every
 * configured source when `names` is empty. A name not configured is an {@link InvalidRequest}
 * that lists the configured names.
 */
export function pickSources(config: Config, names: readonly string[]): SourceConfig[] {
  if (names.length === 0) return [...config.sources];
  const picked: SourceConfig[] = [];
  for (const name of names) {
    const source = config.sources.find((s) => s.name === name);
    if (source === undefined) throw new InvalidRequest(notConfigured(config, name));
    if (!picked.includes(source)) picked.push(source);
  }
  return picked;
}

function notConfigured(config: Config, name: string): string {
  if (config.file === undefined) {
    return `source "${name}" is not configured: there is no configuration file (--config ` +
      `FILE, PERMAFROST_CONFIG, or ~/.config/permafrost/permafrost.toml; see docs/config.md)`;
  }
  const names = config.sources.map((s) => s.name);
  if (names.length === 0) {
    return `source "${name}" is not configured: ${config.file} has no [[source]] table`;
  }
  const list = names.map((n) => `"${n}"`).join(", ");
  return withSuggestion(
    `no source is named "${name}" in ${config.file} (sources: ${list})`,
    name,
    names,
  );
}
