/**
 * `permafrost daemon`'s loop (docs/schedules.md "The daemon"): its own timer, not `Deno.cron`
 * (which needs `--unstable-cron` and does not catch up missed runs). The rules:
 *
 * - Catch-up: a task whose slot passed while no daemon ran (machine asleep, daemon down) runs
 *   once when the daemon starts, however many slots it missed, with a log line.
 * - Overlap: a slot that comes while the task's last run is still under way (in this daemon,
 *   another one, `schedule run`, or a subprocess a killed daemon left) is skipped, logged and
 *   recorded (task_runs.ts).
 * - The schedules file is read again every {@link RELOAD_MS}, so `schedule add` and `remove`
 *   need no restart.
 *
 * @module
 */

import { join } from "node:path";
import { type Every, nextRun, parseEvery } from "./every.ts";
import { loadSchedules, type Schedule } from "./schedule_file.ts";
import { type Log, runTask } from "./run_task.ts";
import { loadRuns, type RunRecord, stateDir, taskDir } from "./task_runs.ts";

/** How often the loop wakes at least, to read the schedules again and notice clock jumps. */
const RELOAD_MS = 30_000;

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  /** The schedules file. */
  file: string;
  /** Only the catch-up runs due at start, then return (`daemon --once`). */
  once: boolean;
  log: Log;
  /** Aborted: start no more runs, and return once the runs under way ended. */
  signal: AbortSignal;
}

/** Runs the schedules in `options.file` until `options.signal` aborts (or once). */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const held = await lockDaemon(stateDir((n) => Deno.env.get(n) || undefined));
  try {
    await runSchedules(options);
  } finally {
    held.close(); // closing releases the flock
  }
}

/**
 * The daemon's own lock, `daemon.lock` in the state folder, held with `flock` while it runs:
 * a second daemon (or `daemon --once`) on the same state folder is refused, so two daemons
 * never both run one slot. The kernel releases it when the daemon dies, even by `kill -9`.
 */
async function lockDaemon(state: string): Promise<Deno.FsFile> {
  Deno.mkdirSync(state, { recursive: true, mode: 0o700 });
  const file = join(state, "daemon.lock");
  const lock = await Deno.open(file, { create: true, write: true, mode: 0o600 });
  if (!(await lock.tryLock(true))) {
    lock.close();
    throw new Deno.errors.AlreadyExists(
      `another permafrost daemon runs the schedules of this state folder (it holds "${file}"); ` +
        "stop it first, or use `permafrost schedule run NAME` for one run now",
    );
  }
  return lock;
}

async function runSchedules(options: DaemonOptions): Promise<void> {
  const { log, signal } = options;
  const running = new Set<Promise<unknown>>();
  const start = (task: Schedule, trigger: "schedule" | "catch-up") => {
    const p = runTask(task, trigger, log).catch((err) =>
      log("error", `schedule "${task.name}": the run could not start: ${(err as Error).message}`)
    ).finally(() => running.delete(p));
    running.add(p);
  };
  const next = new Map<string, Date>();
  let tasks = readTasks(options.file, log);
  log("info", `daemon started: ${tasks.length} schedule(s) in ${options.file}`);
  for (const { task, every } of tasks) {
    const missed = missedSlots(task, every, new Date());
    if (missed.count > 0) {
      log(
        "info",
        `schedule "${task.name}": missed ${missed.count}${
          missed.count >= MAX_COUNTED ? "+" : ""
        } ` +
          `run(s) since ${missed.since} (daemon down or machine asleep): catching up with one run`,
      );
      start(task, "catch-up");
    }
    next.set(task.name, nextRun(every, missed.count > 0 ? new Date() : new Date(missed.since)));
  }
  while (!options.once && !signal.aborted) {
    const now = Date.now();
    const soonest = Math.min(...[...next.values()].map((d) => d.getTime()), now + RELOAD_MS);
    await sleep(Math.max(0, soonest - now), signal);
    if (signal.aborted) break;
    tasks = readTasks(options.file, log);
    for (const { task, every } of tasks) {
      const due = next.get(task.name) ?? nextRun(every, new Date(task.added));
      const now = new Date();
      if (due.getTime() <= now.getTime()) {
        // A slot long past (the machine slept): one run, as at start.
        const late = nextRun(every, due).getTime() <= now.getTime();
        if (late) log("info", `schedule "${task.name}": woke after missed slots: one run`);
        start(task, late ? "catch-up" : "schedule");
        next.set(task.name, nextRun(every, now));
      } else if (!next.has(task.name)) {
        next.set(task.name, due);
      }
    }
    for (const name of [...next.keys()]) {
      if (!tasks.some((t) => t.task.name === name)) next.delete(name);
    }
  }
  while (running.size > 0) await Promise.all(running);
  log("info", "daemon stopped");
}

/** The schedules with their parsed `--every`; one that cannot be read is logged and left out. */
function readTasks(file: string, log: Log): { task: Schedule; every: Every }[] {
  let schedules: Schedule[];
  try {
    schedules = loadSchedules(file);
  } catch (err) {
    log("error", `cannot read the schedules: ${(err as Error).message}`);
    return [];
  }
  return schedules.flatMap((task) => {
    try {
      return [{ task, every: parseEvery(task.every) }];
    } catch (err) {
      log("error", `schedule "${task.name}": ${(err as Error).message}`);
      return [];
    }
  });
}

/** Missed slots are counted up to this many. */
const MAX_COUNTED = 1000;

/**
 * How many slots of `task` passed before `now` since its last run started (or it was added),
 * counted up to {@link MAX_COUNTED}.
 */
export function missedSlots(
  task: Schedule,
  every: Every,
  now: Date,
): { count: number; since: string } {
  const last = lastStart(task);
  let count = 0;
  for (let t = nextRun(every, new Date(last)); t <= now && count < MAX_COUNTED; count++) {
    t = nextRun(every, t);
  }
  return { count, since: last };
}

/** When the task's last run started (skips do not count), else when it was added. */
function lastStart(task: Schedule): string {
  const env = (n: string) => Deno.env.get(n) || undefined;
  const runs = loadRuns(taskDir(stateDir(env), task.name)).filter((r: RunRecord) =>
    r.state !== "skipped"
  );
  return runs.length > 0 ? runs[runs.length - 1].start : task.added;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
