/**
 * Which configuration file a command reads (docs/config.md "Where the file is"), first found:
 *
 * 1. `--config FILE`;
 * 2. `$PERMAFROST_CONFIG`;
 * 3. `$XDG_CONFIG_HOME/permafrost/permafrost.toml`, else `~/.config/permafrost/permafrost.toml`.
 *
 * A file named by 1 or 2 must exist; the default file (3) may be missing, which means no
 * configuration. Pure functions of the flag and the environment, which the caller passes (the
 * same rules as `host/cache/location.ts`: an empty variable is unset).
 *
 * @module
 */

import { isAbsolute, join } from "node:path";

/** Environment variables by name; `Deno.env.toObject()` in the CLI, a literal in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration file to read, and who named it. */
export interface ConfigLocation {
  readonly path: string;
  /** Who named the file, as messages say it. */
  readonly from: "--config" | "PERMAFROST_CONFIG" | "default";
  /** Whether a missing file is an error (it is, unless it is the default file). */
  readonly required: boolean;
}

/** An environment variable, treating an empty value as unset. */
function variable(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * The file to read for `flag` (the value of `--config`, undefined when not given) and `env`;
 * undefined when there is no default file because neither XDG_CONFIG_HOME nor HOME is set.
 * An empty `--config` (`--config "$FILE"` with FILE unset) is a TypeError: falling back would
 * read another file than the command line names.
 */
export function configLocation(flag: string | undefined, env: Env): ConfigLocation | undefined {
  if (flag === "") {
    throw new TypeError(
      "--config is empty: give a file, or leave --config out to use PERMAFROST_CONFIG or " +
        "the default file",
    );
  }
  if (flag !== undefined) return { path: flag, from: "--config", required: true };
  const named = variable(env, "PERMAFROST_CONFIG");
  if (named !== undefined) return { path: named, from: "PERMAFROST_CONFIG", required: true };
  const xdg = variable(env, "XDG_CONFIG_HOME");
  // The XDG Base Directory rules: a relative XDG_CONFIG_HOME is invalid, and ignored.
  const home = variable(env, "HOME");
  const base = xdg !== undefined && isAbsolute(xdg)
    ? xdg
    : home === undefined
    ? undefined
    : join(home, ".config");
  if (base === undefined) return undefined;
  return { path: join(base, "permafrost", "permafrost.toml"), from: "default", required: false };
}

/**
 * `path` with a leading `~` (alone or before `/`) replaced by `home`. `~user/...` is a
 * TypeError, as is `~` while `home` is undefined; other paths are returned as they are.
 */
export function expandHome(path: string, home: string | undefined): string {
  if (!path.startsWith("~")) return path;
  if (path !== "~" && !path.startsWith("~/")) {
    throw new TypeError(`"${path}": only "~/" is expanded, not "~user/"; write the full path`);
  }
  if (home === undefined) throw new TypeError(`"${path}": HOME is not set, so "~" means nothing`);
  return path === "~" ? home : join(home, path.slice(2));
}

/** The home folder `env` names, if any (for {@link expandHome}). */
export function homeOf(env: Env): string | undefined {
  return variable(env, "HOME");
}
