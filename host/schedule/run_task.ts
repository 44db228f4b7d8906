/**
 * One run of a scheduled task: take its lock (or record a skip), resolve its S3 profile's keys
 * (task_credentials.ts), start its command as a subprocess of permafrost in its sandbox
 * (task_policy.ts) under its time limit (time_limit.ts), and record what it gave: exit code,
 * a one-line summary, the `--json` result's key numbers and cost, and a loud warning for a
 * never-change or worm alarm (exit 5, docs/engines.md) or a time-out.
 *
 * @module
 */

import { defaultCacheDir } from "../cache/location.ts";
import type { Schedule } from "./schedule_file.ts";
import { pluginsFolder } from "../plugin/plugin_lock.ts";
import { denoArgs, type RunDirs, taskEnv } from "./task_policy.ts";
import { isS3Repository, profileCredentials } from "./task_credentials.ts";
import { DEFAULT_TIMEOUT, GRACE_MS, parseTimeout, timeLimit } from "./time_limit.ts";
import {
  lockTask,
  newRunId,
  processStart,
  type RunRecord,
  saveRun,
  stateDir,
  taskDir,
  type Trigger,
} from "./task_runs.ts";

/** A line for the daemon's log: level and message (the caller adds the time). */
export type Log = (level: "info" | "warning" | "error", message: string) => void;

/** The exit status of a backup that found protected files changed or vanished. */
const PROTECTED_CHANGED = 5;

/** How much of a task's stdout and stderr is kept to summarise it. */
const KEPT_OUTPUT = 1 << 20;

/**
 * Runs `task` once (`trigger` says why) and resolves with its record, already saved. A run of
 * the same task under way makes this one a skip, logged and recorded.
 */
export async function runTask(task: Schedule, trigger: Trigger, log: Log): Promise<RunRecord> {
  const env = (n: string) => Deno.env.get(n) || undefined;
  const state = stateDir(env);
  const dir = taskDir(state, task.name);
  const start = new Date().toISOString();
  const taken = await lockTask(dir);
  if ("busy" in taken) {
    const run: RunRecord = {
      id: newRunId(),
      trigger,
      start,
      end: start,
      state: "skipped",
      summary: `skipped: ${taken.busy}`,
    };
    saveRun(dir, run);
    log("info", `schedule "${task.name}": ${trigger} run skipped: ${taken.busy}`);
    return run;
  }
  try {
    let aws: Record<string, string>;
    try {
      aws = await awsCredentials(task, env);
    } catch (err) {
      return notStarted(task, dir, { id: newRunId(), trigger, start }, err as Error, log);
    }
    const timeout = task.timeout ?? DEFAULT_TIMEOUT;
    const run: RunRecord = { id: newRunId(), trigger, start, state: "running" };
    const child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(task, runDirs(state)),
      env: taskEnv(task, env, aws),
      clearEnv: true,
      cwd: task.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    run.pid = child.pid;
    run.pidStart = processStart(child.pid);
    saveRun(dir, run);
    log("info", `schedule "${task.name}": ${trigger} run ${run.id} started (pid ${child.pid})`);
    const limit = timeLimit(child, parseTimeout(timeout), GRACE_MS);
    const [stdout, stderr, status] = await Promise.all([
      tail(child.stdout),
      tail(child.stderr),
      child.status,
    ]).finally(() => limit.clear());
    const done: RunRecord = {
      ...run,
      state: "finished",
      end: new Date().toISOString(),
      exitCode: status.code,
      ...resultOf(status.code, stdout, stderr),
    };
    if (limit.stoppedWith !== undefined && !status.success) {
      done.state = "timed out";
      done.summary = `timed out after ${timeout}: stopped with ${limit.stoppedWith}`;
      done.warning = `the run passed its time limit (${timeout}) and was stopped with ` +
        `${limit.stoppedWith}; its result is not saved. Find what hangs (a source on a stalled ` +
        "mount, a FIFO, the network), or give the task a longer --timeout";
    }
    delete done.pid;
    delete done.pidStart;
    saveRun(dir, done);
    report(task, done, log);
    return done;
  } finally {
    taken.lock.release();
  }
}

/**
 * The keys of `task`'s `--aws-profile` for an S3 repository (none for others); an Error saying
 * what to do when the schedule has no profile or it cannot be resolved.
 */
function awsCredentials(
  task: Schedule,
  env: (name: string) => string | undefined,
): Promise<Record<string, string>> {
  if (!isS3Repository(task.repository)) return Promise.resolve({});
  if (task.awsProfile === undefined) {
    return Promise.reject(
      new Error(
        `the S3 repository "${task.repository}" needs the role's own profile: remove the ` +
          "schedule and add it again with --aws-profile NAME (docs/schedules.md)",
      ),
    );
  }
  return profileCredentials(task.awsProfile, env);
}

/** Records and logs a run that could not start (exit 1, the reason as its summary). */
function notStarted(
  task: Schedule,
  dir: string,
  run: Pick<RunRecord, "id" | "trigger" | "start">,
  err: Error,
  log: Log,
): RunRecord {
  const done: RunRecord = {
    ...run,
    state: "finished",
    end: new Date().toISOString(),
    exitCode: 1,
    summary: `not started: ${err.message}`,
  };
  saveRun(dir, done);
  report(task, done, log);
  return done;
}

/** The cache, state and plugins folders of this user, which every task's sandbox adds. */
export function runDirs(state: string): RunDirs {
  return { cache: defaultCacheDir(), state, plugins: pluginsFolder(Deno.env.toObject()) };
}

/** Logs a finished run: a warning for an alarm, an error for a time-out or a failure. */
function report(task: Schedule, run: RunRecord, log: Log): void {
  const what = `schedule "${task.name}": run ${run.id} exited ${run.exitCode}`;
  if (run.state === "timed out") log("error", `${what}: TIMED OUT: ${run.warning}`);
  else if (run.warning) log("warning", `${what}: WARNING: ${run.warning}`);
  else if (run.exitCode === 0) log("info", `${what}: ${run.summary}`);
  else log("error", `${what}: ${run.summary}`);
}

/** The last {@link KEPT_OUTPUT} bytes of `stream`, as text. */
async function tail(stream: ReadableStream<Uint8Array>): Promise<string> {
  let kept = new Uint8Array(0);
  for await (const chunk of stream) {
    const next = new Uint8Array(kept.length + chunk.length);
    next.set(kept);
    next.set(chunk, kept.length);
    kept = next.length > KEPT_OUTPUT ? next.slice(next.length - KEPT_OUTPUT) : next;
  }
  return new TextDecoder().decode(kept);
}

/** Summary, key numbers, cost and warning of a finished run, from its output. */
export function resultOf(
  code: number,
  stdout: string,
  stderr: string,
): Pick<RunRecord, "summary" | "numbers" | "costUsd" | "warning"> {
  const lastError = stderr.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith('{"type":"progress"')
  ).pop();
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    value = undefined;
  }
  const numbers = value === undefined ? undefined : keyNumbers(value);
  const costUsd = value === undefined ? undefined : findCost(value);
  const out: Pick<RunRecord, "summary" | "numbers" | "costUsd" | "warning"> = {};
  if (numbers && Object.keys(numbers).length > 0) out.numbers = numbers;
  if (costUsd !== undefined) out.costUsd = costUsd;
  if (code === PROTECTED_CHANGED) {
    const findings = (value as { findings?: unknown[] } | undefined)?.findings?.length;
    out.warning = `protected files changed or vanished` +
      (findings ? ` (${findings})` : "") +
      "; the snapshot was saved; if the changes are intended, back up again with " +
      "--accept-changes (docs/engines.md)";
  }
  const firstLine = stdout.split("\n").find((l) => l.trim() !== "")?.trim();
  const snapshot = (value as { snapshot?: unknown } | undefined)?.snapshot;
  out.summary = code !== 0 && code !== PROTECTED_CHANGED
    ? lastError ?? `exit ${code}`
    : numbers && Object.keys(numbers).length > 0
    ? (typeof snapshot === "string" ? `snapshot ${snapshot.slice(0, 8)}: ` : "") +
      shown(numbers).map(([k, v]) => `${k} ${v}`).join(", ")
    : firstLine ?? "done";
  return out;
}

/** The numbers a summary line shows: a backup's usual ones where there, else the first six. */
const PREFERRED = ["stats.files", "stats.bytes", "upload.newBytes", "upload.packs"];

function shown(numbers: Record<string, number>): [string, number][] {
  const preferred = PREFERRED.filter((k) => k in numbers).map((k): [string, number] => [
    k,
    numbers[k],
  ]);
  return preferred.length > 0 ? preferred : Object.entries(numbers).slice(0, 6);
}

/**
 * The numbers of a `--json` result worth a summary: `snapshot` and the top-level and
 * one-level-down numbers (`stats.files`, `upload.newBytes`), named by their path.
 */
function keyNumbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "number") out[k] = v;
    else if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) {
        if (typeof v2 === "number") out[`${k}.${k2}`] = v2;
      }
    }
  }
  return Object.fromEntries(Object.entries(out).slice(0, 16));
}

/** A cost the result reports: the first number under a key naming USD (`usd`, `totalUsd`). */
function findCost(value: unknown, depth = 0): number | undefined {
  if (typeof value !== "object" || value === null || depth > 2) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "number" && /usd/i.test(k)) return v;
  }
  for (const v of Object.values(value)) {
    const found = findCost(v, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
