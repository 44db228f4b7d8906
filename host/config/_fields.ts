/**
 * Typed reads of one table of a parsed configuration file, each mistake a {@link ConfigError}
 * at the line of the offending key or list element.
 *
 * @module
 */

import { withSuggestion } from "../text/did_you_mean.ts";
import { ConfigError } from "./config_error.ts";
import type { TomlLines, TomlPath } from "./toml_lines.ts";

/** A parsed TOML table (smol-toml makes them without a prototype). */
export type Table = Readonly<Record<string, unknown>>;

/** The file a table is in: its name, for messages, and where its keys are. */
export interface Where {
  readonly file: string;
  readonly lines: TomlLines;
}

export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** What a value is, as a message says it: "a string", "a list", "a table", ... */
export function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  if (typeof value === "boolean") return "true or false";
  if (typeof value === "number" || typeof value === "bigint") return "a number";
  return `a ${typeof value}`;
}

/** The fields of the table at `path`; `label` starts each message (`source "photos": `). */
export class Fields {
  constructor(
    readonly where: Where,
    readonly path: TomlPath,
    readonly table: Table,
    readonly label: string,
  ) {}

  /** The same fields with another label. */
  labelled(label: string): Fields {
    return new Fields(this.where, this.path, this.table, label);
  }

  /** A ConfigError at the line of `key` (a key, or a key and an index in its list). */
  fail(key: string | TomlPath, problem: string): never {
    const at = [...this.path, ...(typeof key === "string" ? [key] : key)];
    throw new ConfigError(this.where.file, this.where.lines.lineOf(at), this.label + problem);
  }

  /** Refuses the first key not in `known`, suggesting the known one it is likely a typo of. */
  onlyKnown(known: readonly string[]): void {
    for (const key of Object.keys(this.table)) {
      if (!known.includes(key)) {
        this.fail(key, withSuggestion(`unknown key "${key}"`, key, known));
      }
    }
  }

  has(key: string): boolean {
    return Object.hasOwn(this.table, key);
  }

  string(key: string): string | undefined {
    const value = this.table[key];
    if (value === undefined || typeof value === "string") return value;
    this.fail(key, `${key} must be a string, not ${kindOf(value)}`);
  }

  boolean(key: string): boolean | undefined {
    const value = this.table[key];
    if (value === undefined || typeof value === "boolean") return value;
    this.fail(key, `${key} must be true or false, not ${kindOf(value)}`);
  }

  subtable(key: string): Table | undefined {
    const value = this.table[key];
    if (value === undefined || isTable(value)) return value;
    this.fail(key, `${key} must be a table, not ${kindOf(value)}`);
  }

  /** A list of strings, none of them empty. */
  strings(key: string): string[] | undefined {
    const value = this.table[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.fail(key, `${key} must be a list of strings, not ${kindOf(value)}`);
    }
    value.forEach((item, i) => {
      if (typeof item !== "string") {
        this.fail([key, i], `${key} must be a list of strings; item ${i + 1} is ${kindOf(item)}`);
      }
      if (item === "") this.fail([key, i], `${key}: item ${i + 1} is empty`);
    });
    return value as string[];
  }
}
