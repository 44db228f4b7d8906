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
    // The repository code, libsodium and (for a passphrase) the KDF are loaded and started here,
    // not at the top, so that a command that opens no repository does not pay for them; and
    // while the storage plugin's worker starts (docs/bench.md "Start-up (issue #16)"). The
    // repository code (under libsodium's top-level await) is imported once the KDF's modules
    // are: two dynamic imports racing into one graph with a top-level await saw a module
    // unevaluated ("Cannot access 'native' before initialization").
    const { openStorage } = await import("../storage/open.ts");
    const opening = openStorage(location, role);
    const secret = keyFile ? undefined : this.#passphraseEarly(location, opening);
    const [storage, code, passphrase] = await Promise.allSettled([
      opening,
      Promise.resolve(secret).catch(() => {}).then(() => import("../repository/repository.ts")),
      secret,
    ]);
    const early = passphrase.status === "fulfilled" ? passphrase.value?.early : undefined;
    // Zeroed once the open is over (a `then` now would run before the open's own use of it).
    const forget = () => early?.derivedKey.then((key) => key.fill(0), () => {});
    if (storage.status === "rejected") {
      forget();
      throw storage.reason;
    }
    try {
      if (code.status === "rejected") throw code.reason;
      if (passphrase.status === "rejected") throw passphrase.reason;
      const { Repository } = code.value;
      const repo = keyFile
        ? await Repository.open(storage.value, { keyFile, keyFileName: this.keyFilePath() })
        : await Repository.open(storage.value, passphrase.value!);
      if (!keyFile) await this.#keepKeyCopy(location, repo, early?.keyObject);
      this.#opened.push(repo);
      return repo;
    } catch (err) {
      await storage.value.close();
      throw err;
    } finally {
      forget();
    }
  }

  /**
   * The passphrase, and the key derivation under the parameters of the local copy of the key
   * object that opened `location` last (host/cache/key_copy.ts), started at once: the store
   * need not answer first. No copy, or one that does not parse: no early derivation. A prompt
   * waits for the storage to open (`opening`), so that a wrong location is said before it.
   */
  async #passphraseEarly(location: string, opening: Promise<unknown>): Promise<{
    passphrase: string;
    early?: { keyObject: Uint8Array; derivedKey: Promise<Uint8Array> };
  }> {
    if (!passphraseGiven()) await opening;
    const passphrase = await this.passphrase();
    const { readKeyCopy } = await import("../cache/key_copy.ts");
    const keyObject = readKeyCopy(this.cacheDir(), location);
    const [{ readKeyFileInfo }, { deriveKey, nativeArgon2 }] = await Promise.all([
      import("../repository/key_header.ts"), // not keyfile.ts: that waits for libsodium
      import("../crypto/kdf.ts"),
    ]);
    let kdf;
    try {
      if (keyObject) kdf = readKeyFileInfo(keyObject).kdf;
    } catch {
      // a damaged copy: ignored, and replaced once the open succeeds
    }
    if (!keyObject || !kdf) {
      await nativeArgon2(); // loaded now, while the worker starts, for the derivation after it
      return { passphrase };
    }
    const derivedKey = deriveKey(passphrase, kdf);
    derivedKey.catch(() => {}); // unused when the store's key object differs; else awaited there
    return { passphrase, early: { keyObject, derivedKey } };
  }

  /**
   * Keeps the key object that opened `repo` as the local copy for `location`, when the copy
   * is not already its bytes: read back from the store, so only after the key objects changed.
   */
  async #keepKeyCopy(location: string, repo: Repository, copy?: Uint8Array): Promise<void> {
    const name = repo.keyObject;
    if (!name) return;
    const [{ sha256Hex }, { layout }, { writeKeyCopy }] = await Promise.all([
      import("../crypto/hash.ts"),
      import("../repository/layout.ts"),
      import("../cache/key_copy.ts"),
    ]);
    if (copy && name === layout.key(sha256Hex(copy))) return;
    let bytes: Uint8Array;
    try {
      bytes = await repo.storage.read(name);
    } catch {
      return; // removed since: no copy, and the next open derives after the store answers
    }
    if (layout.key(sha256Hex(bytes)) === name) writeKeyCopy(this.cacheDir(), location, bytes);
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

/** Whether the passphrase comes without a prompt (PERMAFROST_PASSWORD or its _FILE is set). */
function passphraseGiven(): boolean {
  return ["PERMAFROST_PASSWORD", "PERMAFROST_PASSWORD_FILE"].some((v) => !!Deno.env.get(v));
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
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

/**
 * A number with thousands separators, as `toLocaleString("en-US")` writes it ("56,352"), without
 * its cost for whole numbers: the first call of that loads the locale data (50-170 ms of CPU
 * at the end of every backup).
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  const digits = String(Math.abs(n));
  let out = digits.slice(0, digits.length % 3 || 3);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** Human byte counts (host/cost/format.ts, shared with the web view). */
export { bytes } from "../cost/format.ts";
