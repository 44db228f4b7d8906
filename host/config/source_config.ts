/**
 * One `[[source]]` table of the configuration file: what to back up, with which engine,
 * filters, never-change globs and tags (docs/config.md "Fields of a source").
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { parseSize } from "../text/size.ts";
import type { Fields } from "./_fields.ts";
import { withSuggestion } from "../text/did_you_mean.ts";
import { expandHome } from "./config_location.ts";

/**
 * A configured source, validated: every field is present with its default filled in, so a
 * caller reads it without checks. Its meaning is that of the `backup` flags it stands for;
 * how an engine or filter acts on it is that engine's or filter's (docs/config.md).
 *
 * - `paths` are absolute, in the file's order, none twice nor two of one base name (a
 *   snapshot names each by it), at least one; `~/` is expanded.
 *   They are not checked to exist: a missing path is the backup's to report.
 * - `engine` is a plugin name (`dedup` unless set); when the loader was given the installed
 *   engines, it is one of them.
 * - `excludeFile` is absolute (a relative one was resolved against the configuration file's
 *   folder); it is not read here.
 * - `excludeIfPresent` holds file names, none with a `/`.
 * - `excludeLargerThan` is in bytes.
 * - `engineConfig` is the `engine_config` table as the file has it, for the engine to check.
 * - `line` is where the source's `[[source]]` header is and `fieldLines` where each field set
 *   in the file is (by its name in the file), for later messages about the source
 *   (`ConfigError(file, fieldLines.never_change ?? line, ...)`).
 */
export interface SourceConfig {
  readonly name: string;
  readonly paths: readonly string[];
  readonly engine: string;
  readonly exclude: readonly string[];
  readonly excludeFile?: string;
  readonly excludeIfPresent: readonly string[];
  readonly excludeLargerThan?: number;
  readonly gitIgnore: boolean;
  readonly neverChange: readonly string[];
  readonly tags: readonly string[];
  readonly engineConfig: Readonly<Record<string, unknown>>;
  readonly line: number;
  readonly fieldLines: Readonly<Partial<Record<SourceField, number>>>;
}

/** The keys a `[[source]]` table may have. */
export const sourceFields = [
  "name",
  "paths",
  "engine",
  "exclude",
  "exclude_file",
  "exclude_if_present",
  "exclude_larger_than",
  "git_ignore",
  "never_change",
  "tags",
  "engine_config",
] as const;
export type SourceField = typeof sourceFields[number];

/** What reading a source needs besides its table. */
export interface SourceContext {
  /** HOME, for `~/` in paths. */
  readonly home: string | undefined;
  /** The configuration file's folder, which a relative `exclude_file` is in. */
  readonly folder: string;
  /** The installed engines; when given, a source naming another is refused. */
  readonly engines?: readonly string[];
}

/** A source's name: what `backup --source NAME` types, and safe in a file or tag name. */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ENGINE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The source in `fields` (a `[[source]]` table whose label is `source #N: `), validated. A
 * mistake is a ConfigError at its line; a missing `name` or `paths`, at the table's header.
 */
export function readSource(fields: Fields, context: SourceContext): SourceConfig {
  const given = fields.table.name;
  if (typeof given === "string" && SOURCE_NAME.test(given)) {
    fields = fields.labelled(`source "${given}": `);
  }
  fields.onlyKnown(sourceFields);
  const name = readName(fields);
  const fieldLines: Partial<Record<SourceField, number>> = {};
  for (const key of sourceFields) {
    const line = fields.has(key) ? fields.where.lines.lineOf([...fields.path, key]) : undefined;
    if (line !== undefined) fieldLines[key] = line;
  }
  return {
    name,
    paths: readPaths(fields, context.home),
    engine: readEngine(fields, context.engines),
    exclude: fields.strings("exclude") ?? [],
    excludeFile: readExcludeFile(fields, context),
    excludeIfPresent: readFileNames(fields, "exclude_if_present"),
    excludeLargerThan: readSize(fields, "exclude_larger_than"),
    gitIgnore: fields.boolean("git_ignore") ?? false,
    neverChange: fields.strings("never_change") ?? [],
    tags: fields.strings("tags") ?? [],
    engineConfig: fields.subtable("engine_config") ?? {},
    line: fields.where.lines.lineOf(fields.path) ?? 1,
    fieldLines,
  };
}

function readName(fields: Fields): string {
  const name = fields.string("name");
  if (name === undefined) fields.fail("name", `has no name; give it one: name = "photos"`);
  if (!SOURCE_NAME.test(name)) {
    fields.fail(
      "name",
      `name "${name}" must be 1 to 64 of a-z, 0-9, ".", "_" and "-", starting with a letter ` +
        `or digit`,
    );
  }
  return name;
}

function readPaths(fields: Fields, home: string | undefined): string[] {
  const given = fields.strings("paths");
  if (given === undefined) {
    fields.fail("paths", `has no paths; list what it backs up: paths = ["~/Pictures"]`);
  }
  if (given.length === 0) fields.fail("paths", `paths is empty; list at least one path`);
  const paths: string[] = [];
  given.forEach((text, i) => {
    const path = expanded(fields, ["paths", i], text, home);
    if (!isAbsolute(path)) {
      fields.fail(["paths", i], `path "${text}" is not absolute; write it from "/" or "~/"`);
    }
    if (paths.includes(path)) fields.fail(["paths", i], `path "${text}" is listed twice`);
    const twin = paths.find((p) => sameBaseName(p, path));
    if (twin !== undefined) {
      fields.fail(
        ["paths", i],
        `paths "${twin}" and "${path}" have the same name "${baseName(path)}", which a ` +
          "snapshot cannot hold twice; put one in a source of its own",
      );
    }
    paths.push(path);
  });
  return paths;
}

/**
 * Whether two source paths would have the same name in a snapshot (its top folder holds each
 * source under its base name; "root" for `/`), which `backup` refuses. A path ending in `/`
 * names the folder a symlink points to, whose name only the disk knows: it is left to `backup`.
 */
function sameBaseName(a: string, b: string): boolean {
  const named = (p: string) => p === "/" || !p.endsWith("/");
  return named(a) && named(b) && baseName(a) === baseName(b);
}

function baseName(path: string): string {
  return path === "/" ? "root" : path.slice(path.lastIndexOf("/") + 1);
}

function readEngine(fields: Fields, engines: readonly string[] | undefined): string {
  const engine = fields.string("engine") ?? "dedup";
  if (!ENGINE_NAME.test(engine)) {
    fields.fail("engine", `engine "${engine}" is not an engine's name`);
  }
  if (engines !== undefined && !engines.includes(engine)) {
    fields.fail("engine", engineNotInstalled(engine, engines));
  }
  return engine;
}

/** Why a source cannot name `engine`: it is not among the installed `engines`. */
export function engineNotInstalled(engine: string, engines: readonly string[]): string {
  const known = engines.map((e) => `"${e}"`).join(", ");
  return withSuggestion(`engine "${engine}" is not installed (engines: ${known})`, engine, engines);
}

function readExcludeFile(fields: Fields, context: SourceContext): string | undefined {
  const text = fields.string("exclude_file");
  if (text === undefined) return undefined;
  if (text === "") fields.fail("exclude_file", "exclude_file is empty");
  return resolve(context.folder, expanded(fields, ["exclude_file"], text, context.home));
}

/** A list of file names, as `exclude_if_present` takes: no `/`, not `.` or `..`. */
function readFileNames(fields: Fields, key: SourceField): string[] {
  const names = fields.strings(key) ?? [];
  names.forEach((name, i) => {
    if (name.includes("/") || name === "." || name === "..") {
      fields.fail([key, i], `${key}: "${name}" is not a file name (a name has no "/")`);
    }
  });
  return names;
}

/** A size: a string such as "2 GiB", or a whole number of bytes. */
function readSize(fields: Fields, key: SourceField): number | undefined {
  const value = fields.table[key];
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value !== "string") {
    fields.fail(key, `${key} must be a size such as "2 GiB" or a number of bytes`);
  }
  try {
    return parseSize(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return fields.fail(key, `${key}: ${err.message}`);
  }
}

function expanded(
  fields: Fields,
  at: (string | number)[],
  path: string,
  home: string | undefined,
): string {
  try {
    return expandHome(path, home);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return fields.fail(at, `${at[0]}: ${err.message}`);
  }
}
