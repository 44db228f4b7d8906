/**
 * A task's runs and its lock, in the state folder (`PERMAFROST_STATE_DIR`, else
 * `$XDG_STATE_HOME/permafrost`, else `~/.local/state/permafrost`), under `schedules/NAME/`:
 *
 * - `runs/<start>-<id>.json`: one file per run (started, skipped, finished), written whole by
 *   rename; the newest {@link KEPT_RUNS} are kept, and a `running` one always (the skips a
 *   hung run causes never push its record out).
 * - `lock`: held with `flock` by the process running the task. The kernel releases it when that
 *   process dies, so a killed daemon leaves nothing stuck; and since the task's own subprocess
 *   may outlive a killed daemon, a run record still "running" whose subprocess is alive (its
 *   pid and start time in `/proc`) also counts as a run under way.
 *
 * @module
 */

import { join } from "node:path";

/** Why a run started. */
export type Trigger = "schedule" | "catch-up" | "manual";

/** One run of a task, as `schedule list` and the web page show it. */
export interface RunRecord {
  id: string;
  trigger: Trigger;
  /** ISO times. */
  start: string;
  end?: string;
  /** `timed out`: stopped at its `--timeout` (time_limit.ts); its warning says so. */
  state: "running" | "finished" | "skipped" | "interrupted" | "timed out";
  /** The subprocess, while it runs: pid and its start time in `/proc` (Linux). */
  pid?: number;
  pidStart?: string;
  exitCode?: number;
  /** One line: the result's key numbers, the skip's reason, or the error's last line. */
  summary?: string;
  /** The `--json` result's key numbers (files, bytes, new bytes, packs...). */
  numbers?: Record<string, number>;
  /** In USD, where the command reports a cost. */
  costUsd?: number;
  /** A never-change or worm alarm (exit 5) or a time-out, said loudly everywhere. */
  warning?: string;
}

/** How many runs of each task are kept. */
export const KEPT_RUNS = 50;

/** The state folder, from `env` (the rules restore jobs use). */
export function stateDir(env: (name: string) => string | undefined): string {
  return env("PERMAFROST_STATE_DIR") ??
    join(env("XDG_STATE_HOME") ?? join(env("HOME") ?? ".", ".local", "state"), "permafrost");
}

/** A task's folder in the state folder. */
export function taskDir(state: string, name: string): string {
  return join(state, "schedules", name);
}

/** The task's runs, oldest first; a file that cannot be read is left out. */
export function loadRuns(dir: string): RunRecord[] {
  const runs = join(dir, "runs");
  let names: string[];
  try {
    names = [...Deno.readDirSync(runs)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: RunRecord[] = [];
  for (const name of names.sort()) {
    try {
      out.push(JSON.parse(Deno.readTextFileSync(join(runs, name))));
    } catch {
      // a half-written file cannot exist (rename), but a damaged one is no reason to stop
    }
  }
  return out;
}

/**
 * Writes `run` (whole, by rename) and drops the oldest runs past {@link KEPT_RUNS}, never one
 * still `running`: that record is what tells a later daemon its subprocess is under way.
 */
export function saveRun(dir: string, run: RunRecord): void {
  const runs = join(dir, "runs");
  Deno.mkdirSync(runs, { recursive: true, mode: 0o700 });
  const file = join(runs, `${run.start.replace(/[:.]/g, "")}-${run.id}.json`);
  Deno.writeTextFileSync(`${file}.tmp`, JSON.stringify(run, null, 2) + "\n");
  Deno.renameSync(`${file}.tmp`, file);
  const names = [...Deno.readDirSync(runs)].map((e) => e.name).filter((n) => n.endsWith(".json"))
    .sort();
  let excess = names.length - KEPT_RUNS;
  for (const old of names) {
    if (excess <= 0) break;
    if (isRunning(join(runs, old))) continue;
    Deno.removeSync(join(runs, old));
    excess--;
  }
}

/** Whether the run record in `file` says `running` (a damaged one does not). */
function isRunning(file: string): boolean {
  try {
    return JSON.parse(Deno.readTextFileSync(file)).state === "running";
  } catch {
    return false;
  }
}

/** A new run id. */
export function newRunId(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The start time of process `pid` in clock ticks since boot (`/proc`), if it is alive. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether `run` is still under way: its subprocess alive, with the start time recorded. */
export function isUnderWay(run: RunRecord): boolean {
  return run.state === "running" && run.pid !== undefined &&
    run.pidStart !== undefined && processStart(run.pid) === run.pidStart;
}

/** The held lock of a task; `release` unlocks it. */
export interface TaskLock {
  release(): void;
}

/**
 * Takes the task's lock, or says which run holds it: another process holding the `flock`, or
 * a run left "running" by a killed daemon whose subprocess is still alive. A run left
 * "running" whose subprocess is gone is marked interrupted here.
 */
export async function lockTask(
  dir: string,
): Promise<{ lock: TaskLock } | { busy: string }> {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = await Deno.open(join(dir, "lock"), { create: true, write: true });
  if (!(await file.tryLock(true))) {
    file.close();
    return { busy: "another process is running it" };
  }
  const lock = { release: () => file.close() }; // closing releases the flock
  for (const run of loadRuns(dir).filter((r) => r.state === "running")) {
    if (isUnderWay(run)) {
      lock.release();
      return {
        busy: `its run started at ${run.start} by a daemon that stopped is still under way ` +
          `(pid ${run.pid})`,
      };
    }
    saveRun(dir, {
      ...run,
      state: "interrupted",
      summary: "interrupted: the daemon or its task was stopped before the run ended",
    });
  }
  return { lock };
}
