/**
 * What a scheduled task may do (docs/schedules.md "The sandbox"): the role its command needs,
 * the Deno permissions of its subprocess, computed from the command, and the environment it
 * gets, built from a list and never inherited. A scheduled backup holds the ingest key and
 * nothing an admin holds.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { isAbsolute, resolve } from "node:path";
import type { Schedule } from "./schedule_file.ts";

/** The role a task's command needs (docs/security.md §1); `none` opens no repository. */
export type TaskRole = "ingest" | "reader" | "admin" | "none";

/** What a task's subprocess may touch beyond the program, the cache and the state folder. */
export interface TaskSandbox {
  /** Absolute paths it may read (sources, key or password file, exclude files, config file). */
  read: string[];
  /** Absolute paths it may write (the repository's folder or files). */
  write: string[];
  /** `host:port`s it may reach (an S3 endpoint). */
  net: string[];
  /** `Deno.osRelease`-style names for `--allow-sys`. */
  sys: string[];
}

/** Commands by role, as users type them. Any other command is refused by `schedule add`. */
const ROLES: Readonly<Record<string, TaskRole>> = {
  backup: "ingest",
  snapshots: "reader",
  ls: "reader",
  find: "reader",
  diff: "reader",
  cat: "reader",
  check: "reader",
  cost: "reader",
  "worm status": "reader",
  "estimate size": "none",
  "estimate store": "none",
  "estimate restore": "none",
  "estimate delete": "none",
  "prices show": "none",
  "s3 policy": "none",
  forget: "admin",
  rebuild: "admin",
  "worm forget": "admin",
  "gc mark": "admin",
  "gc compact": "admin",
  "gc purge": "admin",
  "gc index": "admin",
};

/** The role `command` ("gc purge") needs, or a TypeError saying it cannot be scheduled. */
export function roleOf(command: string): TaskRole {
  if (Object.hasOwn(ROLES, command)) return ROLES[command];
  throw new TypeError(
    `"${command}" cannot be scheduled (it asks questions, serves, makes keys or needs the ` +
      `network beyond the repository); schedulable: ${Object.keys(ROLES).join(", ")}`,
  );
}

/**
 * Environment variables a task gets from the daemon's environment, when set: where things
 * live, the locale, and the non-secret S3 settings. Nothing else is passed.
 */
export const PASSED_ENV = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "NO_COLOR",
  "DENO_DIR",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  "XDG_STATE_HOME",
  "XDG_DATA_HOME",
  "PERMAFROST_CONFIG",
  "PERMAFROST_CACHE_DIR",
  "PERMAFROST_STATE_DIR",
  "PERMAFROST_PLUGINS_DIR",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_S3",
  "AWS_EC2_METADATA_DISABLED",
  "NODE_EXTRA_CA_CERTS",
] as const;

/**
 * Credentials a task never takes from the daemon's environment, whatever its role: the
 * passphrase, the key file, AWS keys, profile and shared files. A task's own come from its
 * schedule (task_credentials.ts).
 */
export const NEVER_PASSED = [
  "PERMAFROST_PASSWORD",
  "PERMAFROST_PASSWORD_FILE",
  "PERMAFROST_NEW_PASSWORD",
  "PERMAFROST_KEY_FILE",
  "PERMAFROST_REPO",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
] as const;

/**
 * The environment of `task`'s subprocess: {@link PASSED_ENV} from `env`, the repository the
 * schedule resolved, and the role's own credentials: `--password-file` for reader and admin
 * tasks, and `aws`, the keys of its `--aws-profile` the daemon resolved (task_credentials.ts),
 * never the profile's name (which would make the SDK look for the files it may not read). An
 * ingest task's key file is in its command.
 */
export function taskEnv(
  task: Schedule,
  env: (name: string) => string | undefined,
  aws: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const v = env(name);
    if (v !== undefined && v !== "") out[name] = v;
  }
  out.PERMAFROST_REPO = task.repository;
  if (task.passwordFile !== undefined && task.role !== "ingest") {
    out.PERMAFROST_PASSWORD_FILE = task.passwordFile;
  }
  return { ...out, ...aws };
}

/** The folder holding `deno.json` and `host/`: the program a task runs. */
export const programDir = fileURLToPath(new URL("../../", import.meta.url));

/** What every task reads and writes besides its own: the program, the cache, the state. */
export interface RunDirs {
  cache: string;
  state: string;
  /** Installed plugins and their lock (host/plugin/plugin_lock.ts), read only. */
  plugins?: string;
}

/**
 * `deno run` arguments for `task`: no prompt, no download, no import but the program's own
 * modules (`--cached-only`), and for each permission exactly the list: read the program, the
 * cache, the state folder, the installed plugins and {@link TaskSandbox.read}; write the cache, the repository and
 * (reader and admin tasks, whose commands keep state) the state folder; net only the S3
 * endpoint; env (the environment is already {@link taskEnv}); no run, no ffi.
 */
export function denoArgs(task: Schedule, dirs: RunDirs): string[] {
  return [...sandboxFlags(task, dirs), resolve(programDir, "host/cli/main.ts"), ...task.argv];
}

/** The `deno run` flags of {@link denoArgs}, before the program and its arguments. */
export function sandboxFlags(task: Schedule, dirs: RunDirs): string[] {
  const { sandbox } = task;
  const read = [programDir, dirs.cache, dirs.state, ...sandbox.read, ...sandbox.write];
  if (dirs.plugins !== undefined) read.push(dirs.plugins);
  const write = [dirs.cache, ...sandbox.write, ...(task.role === "ingest" ? [] : [dirs.state])];
  // The folders of this run come from the daemon's environment, not from `add`: check them too.
  for (const path of [...read, ...write]) {
    if (path.includes(",")) {
      throw new TypeError(
        `"${path}" has a comma, which a Deno permission list cannot hold (it would grant ` +
          "more); move or link the folder (PERMAFROST_CACHE_DIR, PERMAFROST_STATE_DIR, ...)",
      );
    }
  }
  const flags = [
    "run",
    "--no-prompt",
    "--quiet",
    "--cached-only",
    "--config",
    resolve(programDir, "deno.json"),
    "--v8-flags=--max-semi-space-size=8",
    `--allow-read=${unique(read).join(",")}`,
    `--allow-write=${unique(write).join(",")}`,
    "--allow-env",
  ];
  if (sandbox.net.length > 0) flags.push(`--allow-net=${unique(sandbox.net).join(",")}`);
  // Deno's command line knows no `ca` descriptor, which the s3 plugin's worker asks for (its
  // TLS trust of NODE_EXTRA_CA_CERTS), and a worker cannot get what its parent lacks: a task
  // needing `ca` gets all of sys (system information, read only; no file, net or process).
  if (sandbox.sys.includes("ca")) flags.push("--allow-sys");
  else if (sandbox.sys.length > 0) flags.push(`--allow-sys=${unique(sandbox.sys).join(",")}`);
  return flags;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/**
 * An absolute path for the sandbox, relative ones against `cwd`. A comma is refused: Deno's
 * permission lists are comma-separated, so it would widen or break the list.
 */
export function sandboxPath(path: string, cwd: string): string {
  const abs = isAbsolute(path) ? resolve(path) : resolve(cwd, path);
  if (abs.includes(",")) {
    throw new TypeError(
      `"${path}" has a comma, which a Deno permission list cannot hold; rename or link it`,
    );
  }
  return abs;
}
