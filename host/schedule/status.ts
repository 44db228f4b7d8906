/**
 * Every schedule with its next run and its latest runs: what `schedule list` prints and the
 * web view's `/schedules` page shows.
 *
 * @module
 */

import { nextRun, parseEvery } from "./every.ts";
import { loadSchedules, schedulesFile } from "./schedule_file.ts";
import { loadRuns, type RunRecord, stateDir, taskDir } from "./task_runs.ts";

const env = (n: string) => Deno.env.get(n) || undefined;

/** A schedule with its runs, as `list --json` and the web page show it. */
export interface ScheduleStatus {
  name: string;
  every: string;
  command: string;
  role: string;
  /** ISO time of the next run; "at daemon start" when a slot was missed (catch-up). */
  next: string;
  lastRun: RunRecord | null;
  runs: RunRecord[];
}

/** Every schedule in `file` with its runs, newest last. */
export function scheduleStatuses(file = schedulesFile()): ScheduleStatus[] {
  const state = stateDir(env);
  return loadSchedules(file).map((s) => {
    const runs = loadRuns(taskDir(state, s.name));
    const started = runs.filter((r) => r.state !== "skipped");
    const last = started.length > 0 ? started[started.length - 1].start : s.added;
    const due = nextRun(parseEvery(s.every), new Date(last));
    return {
      name: s.name,
      every: s.every,
      command: s.argv.join(" "),
      role: s.role,
      next: due.getTime() <= Date.now() ? "at daemon start (missed)" : due.toISOString(),
      lastRun: runs.length > 0 ? runs[runs.length - 1] : null,
      runs: runs.slice(-10),
    };
  });
}
