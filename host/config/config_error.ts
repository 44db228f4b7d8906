/**
 * The error for a configuration file that cannot be used: missing (when named), unreadable,
 * not TOML, or with a field that is wrong. Its message is one sentence that names the file and,
 * when the mistake is in the text, its line: `permafrost.toml line 12: source "photos": engine
 * must be a string, not a list` (docs/config.md "Errors").
 *
 * @module
 */

/** A configuration file's mistake; `file` is its path and `line` (from 1) where it is. */
export class ConfigError extends Error {
  override name = "ConfigError";

  constructor(readonly file: string, readonly line: number | undefined, problem: string) {
    super(line === undefined ? `${file}: ${problem}` : `${file} line ${line}: ${problem}`);
  }
}
