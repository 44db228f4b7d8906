/**
 * The schedules, in `schedules.json` in the user's configuration folder
 * (`$XDG_CONFIG_HOME/permafrost`, else `~/.config/permafrost`; docs/schedules.md "Where
 * things live"). Written whole, to a temporary file renamed over the old one, so a reader never
 * sees half a file. Versioned: a file of another version is refused, never guessed at.
 *
 * @module
 */

import { join } from "node:path";
import type { TaskRole, TaskSandbox } from "./task_policy.ts";
import { parseTimeout } from "./time_limit.ts";

/** One scheduled task, as `schedule add` saved it. */
export interface Schedule {
  name: string;
  /** The `--every` text (every.ts). */
  every: string;
  /** The permafrost command line the task runs, without `permafrost`. */
  argv: string[];
  /** The folder the command was added from: the task runs there (relative paths). */
  cwd: string;
  /** The repository the command uses, resolved when it was added. */
  repository: string;
  role: TaskRole;
  /** What the task's subprocess may touch (task_policy.ts). */
  sandbox: TaskSandbox;
  /** `--password-file`, for reader and admin tasks. */
  passwordFile?: string;
  /**
   * `--aws-profile`, required for an S3 repository: the role's own profile, whose keys the
   * daemon resolves at each run (task_credentials.ts).
   */
  awsProfile?: string;
  /** `--timeout` (time_limit.ts); its `DEFAULT_TIMEOUT` when absent. */
  timeout?: string;
  /** ISO time it was added: the first run is the first slot after it. */
  added: string;
}

const VERSION = 1;

/** The configuration folder schedules live in, from `env`. */
export function configDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg && xdg.startsWith("/")) return join(xdg, "permafrost");
  const home = env("HOME");
  if (!home) {
    throw new Deno.errors.NotFound("HOME is not set: set XDG_CONFIG_HOME for the schedules");
  }
  return join(home, ".config", "permafrost");
}

/** `schedules.json` in the configuration folder. */
export function schedulesFile(env = (n: string) => Deno.env.get(n) || undefined): string {
  return join(configDir(env), "schedules.json");
}

/** The schedules in `file`; none when it does not exist. */
export function loadSchedules(file: string): Schedule[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  let doc: { version?: unknown; schedules?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`"${file}" is not JSON (${(err as Error).message}); fix or remove it`);
  }
  if (doc.version !== VERSION || !Array.isArray(doc.schedules)) {
    throw new TypeError(
      `"${file}" is not a version ${VERSION} schedules file; this permafrost cannot read it`,
    );
  }
  doc.schedules.forEach((entry, i) => checkEntry(entry, `"${file}": schedules[${i}]`));
  return doc.schedules as Schedule[];
}

const ROLES = ["ingest", "reader", "admin", "none"];

/**
 * Refuses an entry (edited by hand) that is not a {@link Schedule}, naming the field, before
 * the daemon builds a command line from it; a comma in a sandbox path would widen a Deno
 * permission list, as `sandboxPath` refuses at `add`.
 */
function checkEntry(entry: unknown, at: string): void {
  const bad = (field: string, want: string): never => {
    throw new TypeError(`${at}.${field} must be ${want}; fix it or add the schedule again`);
  };
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) bad("", "an object");
  const e = entry as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  for (const field of ["name", "every", "cwd", "repository", "added"]) {
    if (typeof e[field] !== "string") bad(field, "a string");
  }
  for (const field of ["passwordFile", "awsProfile", "timeout"]) {
    if (e[field] !== undefined && typeof e[field] !== "string") bad(field, "a string");
  }
  if (e.timeout !== undefined) {
    try {
      parseTimeout(e.timeout as string);
    } catch {
      bad("timeout", "a duration such as 12h");
    }
  }
  if (!strings(e.argv) || (e.argv as string[]).length === 0) bad("argv", "a list of words");
  if (!ROLES.includes(e.role as string)) bad("role", `one of ${ROLES.join(", ")}`);
  const sandbox = e.sandbox as Record<string, unknown> | undefined;
  for (const list of ["read", "write", "net", "sys"]) {
    const v = sandbox?.[list];
    if (!strings(v)) bad(`sandbox.${list}`, "a list of strings");
    const comma = (v as string[]).findIndex((x) => x.includes(","));
    if (comma >= 0) bad(`sandbox.${list}[${comma}]`, "free of commas");
  }
}

/**
 * Changes the schedules in `file`: `change` gets them as they are, read under an exclusive
 * `flock` on `file.lock` (held until the new list is renamed into place), and returns the new
 * list. Two `schedule add` at once thus both land: the second reads what the first wrote.
 * `change` must not wait on anything slow; it may throw to leave the file as it is.
 */
export async function updateSchedules(
  file: string,
  change: (schedules: Schedule[]) => Schedule[],
): Promise<void> {
  Deno.mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  const lock = await Deno.open(`${file}.lock`, { create: true, write: true, mode: 0o600 });
  try {
    await lock.lock(true);
    saveSchedules(file, change(loadSchedules(file)));
  } finally {
    lock.close(); // closing releases the flock
  }
}

/** Writes `schedules` to `file` (0600, folder 0700), replacing it whole; see {@link updateSchedules}. */
export function saveSchedules(file: string, schedules: Schedule[]): void {
  Deno.mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify({ version: VERSION, schedules }, null, 2) + "\n", {
    mode: 0o600,
  });
  Deno.renameSync(tmp, file);
}

/** The schedule named `name`, or a NotFound naming the ones there are. */
export function findSchedule(schedules: Schedule[], name: string, file: string): Schedule {
  const found = schedules.find((s) => s.name === name);
  if (found) return found;
  const names = schedules.map((s) => s.name);
  throw new Deno.errors.NotFound(
    `no schedule "${name}" in ${file}` +
      (names.length ? `; the schedules are: ${names.join(", ")}` : "; there are none"),
  );
}
