/**
 * What every command shares: parsed flags, how the repository and the key are found
 * (`--repo`/`PERMAFROST_REPO`, passphrase from `PERMAFROST_PASSWORD`, `PERMAFROST_PASSWORD_FILE`
 * or a prompt, key file from `--key-file`/`PERMAFROST_KEY_FILE`), and output (`--json`).
 *
 * @module
 */

import type { Repository } from "../repository/repository.ts";
import type { Role } from "../storage/storage.ts";
import { defaultCacheDir, defaultRepository } from "../cache/location.ts";
import { type Config, loadConfigSync } from "../config/mod.ts";
import type { OptionTable } from "./options.ts";
import { readSecret } from "./secret.ts";

export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * `--repo`, `--key-file` and `--config`: how a command that opens a repository finds it (the
 * configuration file names one too, docs/config.md) and its key.
 */
export const repoOptions = {
  repo: { type: "string" },
  "key-file": { type: "string" },
  config: { type: "string" },
} as const satisfies OptionTable;

/** `--json`: for the commands whose output goes through {@link Context.print}. */
export const jsonOption = { json: { type: "boolean" } } as const satisfies OptionTable;

/** A mistake in how a command was called: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export class Context {
  /**
   * `options` is the command's option table (`options.ts`), which the command line was parsed
   * with: reading an option outside it is a bug, thrown as one, never a silent `undefined`.
   */
  constructor(
    readonly positionals: string[],
    readonly flags: Flags,
    readonly options?: OptionTable,
  ) {}

  /** Repositories this command opened, whose warnings `reportWarnings` prints. */
  #opened: Repository[] = [];

  /** Prints what the opened repositories skipped (damaged or stray objects), once. */
  reportWarnings(): void {
    for (const repo of this.#opened) {
      for (const w of repo.warnings.splice(0)) console.error(`warning: ${w}`);
    }
  }

  get json(): boolean {
    return this.flags.json === true;
  }

  /** The value of option `name`, which the command's table must declare. */
  #value(name: string): Flags[string] {
    if (this.options && !Object.hasOwn(this.options, name)) {
      throw new Error(`bug: the command reads --${name}, which its option table does not declare`);
    }
    return this.flags[name];
  }

  string(name: string): string | undefined {
    const v = this.#value(name);
    if (Array.isArray(v)) return v[v.length - 1] as string;
    return typeof v === "string" ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.#value(name);
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map(String);
  }

  bool(name: string): boolean {
    return this.#value(name) === true;
  }

  /**
   * `--repo`, else `PERMAFROST_REPO`, else the configuration file's `repository`; `undefined`
   * when none is set (an empty variable is unset). An empty `--repo` (`--repo "$REPO"` with
   * `REPO` unset) is a usage error: falling back would run the command on another repository
   * than the one the command line names. The file is read only when the first two are unset.
   */
  repoLocation(): string | undefined {
    const given = this.string("repo");
    if (given === "") {
      throw new UsageError(
        "--repo is empty: give a location, or leave --repo out to use PERMAFROST_REPO or the " +
          "default repository",
      );
    }
    return given || Deno.env.get("PERMAFROST_REPO") || this.configuration().repository;
  }

  #config?: Config;

  /**
   * The configuration file (`--config`, else PERMAFROST_CONFIG, else the default file;
   * docs/config.md), read once: no sources when there is none. Throws its `ConfigError`.
   */
  configuration(): Config {
    const flag = this.options && !Object.hasOwn(this.options, "config")
      ? undefined
      : this.string("config");
    if (flag === "") throw new UsageError("--config is empty: give a file, or leave it out");
    return this.#config ??= loadConfigSync({ config: flag });
  }

  /** The repository location, falling back to the default local repository. */
  repoOrDefault(): { location: string; isDefault: boolean } {
    const given = this.repoLocation();
    return given
      ? { location: given, isDefault: false }
      : { location: defaultRepository(), isDefault: true };
  }

  /** The repository every command but `backup` uses: the configured one, else the default. */
  requireRepo(): string {
    return this.repoLocation() ?? defaultRepository();
  }

  cacheDir(): string {
    return defaultCacheDir();
  }

  /** The key file's path (`--key-file`, else `PERMAFROST_KEY_FILE`), if one is configured. */
  keyFilePath(): string | undefined {
    return this.string("key-file") ?? (Deno.env.get("PERMAFROST_KEY_FILE") || undefined);
  }

  /** The key file's bytes, if one is configured. */
  keyFile(): Uint8Array | undefined {
    const path = this.keyFilePath();
    if (!path) return undefined;
    try {
      return Deno.readFileSync(path);
    } catch (err) {
      throw new Deno.errors.NotFound(
        `cannot read key file "${path}": ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  /** The passphrase from the environment, a file, or a prompt (twice when `confirm`). */
  async passphrase(confirm = false, label = "repository passphrase"): Promise<string> {
    const env = Deno.env.get("PERMAFROST_PASSWORD");
    if (env !== undefined && env !== "") return env;
    const file = Deno.env.get("PERMAFROST_PASSWORD_FILE");
    if (file !== undefined && file !== "") {
      let text: string;
      try {
        text = Deno.readTextFileSync(file);
      } catch (err) {
        throw new UsageError(
          `cannot read PERMAFROST_PASSWORD_FILE "${file}": ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
      const pass = text.replace(/\r?\n$/, "");
      if (pass === "") throw new UsageError(`PERMAFROST_PASSWORD_FILE "${file}" is empty`);
      return pass;
    }
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        "no passphrase: set PERMAFROST_PASSWORD or PERMAFROST_PASSWORD_FILE, or use --key-file",
      );
    }
    return await ask(label, confirm);
  }

  /**
   * A new passphrase (for `key passwd`): `PERMAFROST_NEW_PASSWORD`, or asked twice at a
   * terminal. Never `PERMAFROST_PASSWORD`, which holds the current one.
   */
  async newPassphrase(): Promise<string> {
    const env = Deno.env.get("PERMAFROST_NEW_PASSWORD");
    if (env !== undefined) {
      if (env === "") throw new UsageError("PERMAFROST_NEW_PASSWORD is empty");
      return env;
    }
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError("no new passphrase: set PERMAFROST_NEW_PASSWORD, or run at a terminal");
    }
    return await ask("new passphrase", true);
  }

  /**
   * Opens the repository with the configured key: an exported key file (its role decides the
   * storage role: an ingest key gets the put-only handle), or else the passphrase (admin).
   */
  async open(location = this.requireRepo()): Promise<Repository> {
    const keyFile = this.keyFile();
    let role: Role = "admin";
    if (keyFile) {
      const { decodeKeyExport } = await import("../repository/keyfile.ts");
      if (decodeKeyExport(keyFile).keys.role === "ingest") role = "ingest";
    }
    // The repository code, libsodium and (for a passphrase) the KDF's native addon are loaded
    // here, not at the top, so that a command that opens no repository does not pay for them;
    // and while the storage plugin's worker starts (docs/bench.md "Start-up (issue #16)").
    const { openStorage } = await import("../storage/open.ts");
    const [storage, { Repository }] = await Promise.all([
      openStorage(location, role),
      import("../repository/repository.ts"),
      keyFile ? undefined : import("../crypto/kdf.ts").then((kdf) => kdf.nativeArgon2()),
    ]);
    try {
      const repo = keyFile
        ? await Repository.open(storage, { keyFile, keyFileName: this.keyFilePath() })
        : await Repository.open(storage, { passphrase: await this.passphrase() });
      this.#opened.push(repo);
      return repo;
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  /** Writes a result: JSON when `--json`, else the human text. */
  print(value: unknown, human: () => string): void {
    if (this.json) console.log(JSON.stringify(value, null, 2));
    else {
      const text = human();
      if (text !== "") console.log(text);
    }
  }
}

/** Asks for a passphrase at the terminal (twice when `confirm`); never accepts an empty one. */
async function ask(label: string, confirm: boolean): Promise<string> {
  const first = await readSecret(`Enter ${label}: `);
  if (confirm && first !== await readSecret(`Enter ${label} again: `)) {
    throw new UsageError("the two passphrases differ");
  }
  if (first === "") throw new UsageError("the passphrase is empty");
  return first;
}

/**
 * A path or name made safe for a terminal line: control characters (a newline in a file name,
 * an escape sequence) are shown escaped instead of acting. `--json` output is exact.
 */
export function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\t"
        ? "\\t"
        : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * A count and its noun, singular for exactly one: "1 file", "2 files", "0 packs". `many` is the
 * plural when it is not the noun plus "s" ("1 entry", "3 entries").
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** Human byte counts (host/cost/format.ts, shared with the web view). */
export { bytes } from "../cost/format.ts";
