/**
 * A task's time limit (docs/schedules.md "Time limit"): `schedule add --timeout DURATION`,
 * {@link DEFAULT_TIMEOUT} when not given. When a run passes it, the daemon sends its subprocess
 * SIGTERM (permafrost then closes its storage in order, at most 30 s) and SIGKILL
 * {@link GRACE_MS} later if it still runs; the run is recorded as `timed out`.
 *
 * @module
 */

/** The time limit of a task added without `--timeout`. */
export const DEFAULT_TIMEOUT = "12h";

/** How long a subprocess has, after SIGTERM, before SIGKILL: longer than an orderly close. */
export const GRACE_MS = 60_000;

/** The longest limit: a longer one would overflow the timer (2^31 ms, about 24.8 days). */
const MAX_MS = 20 * 24 * 3600 * 1000;

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `45m`, `12h`, `1d`, `1h30m` in milliseconds; a RangeError saying what to give otherwise. */
export function parseTimeout(text: string): number {
  if (!/^(\d+[smhd])+$/.test(text)) {
    throw new RangeError(
      `timeout "${text}" is not a duration: use digits and units s, m, h, d (e.g. 12h or 1h30m)`,
    );
  }
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * UNITS[unit];
  if (ms === 0 || ms > MAX_MS) {
    throw new RangeError(`timeout "${text}" must be more than 0 and at most 20d`);
  }
  return ms;
}

/** A running time limit: which signal it sent, if any. */
export interface TimeLimit {
  /** `SIGTERM` once the limit passed, `SIGKILL` once the grace passed too; else undefined. */
  readonly stoppedWith: "SIGTERM" | "SIGKILL" | undefined;
  /** Stops the timers (call when the subprocess ended). */
  clear(): void;
}

/** Sends `child` SIGTERM after `limitMs`, then SIGKILL `graceMs` later if it has not ended. */
export function timeLimit(child: Deno.ChildProcess, limitMs: number, graceMs: number): TimeLimit {
  let stoppedWith: TimeLimit["stoppedWith"];
  let kill: ReturnType<typeof setTimeout> | undefined;
  const send = (signal: "SIGTERM" | "SIGKILL") => {
    stoppedWith = signal;
    try {
      child.kill(signal);
    } catch {
      // it ended between the timer and the signal
    }
  };
  const term = setTimeout(() => {
    send("SIGTERM");
    kill = setTimeout(() => send("SIGKILL"), graceMs);
  }, limitMs);
  return {
    get stoppedWith() {
      return stoppedWith;
    },
    clear() {
      clearTimeout(term);
      clearTimeout(kill);
    },
  };
}
