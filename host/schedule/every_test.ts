import assert from "node:assert/strict";
import { nextRun, onCalendar, parseEvery } from "./every.ts";

/** A local time, as the schedules read it. */
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
  new Date(y, mo - 1, d, h, mi, s);

Deno.test("daily@02:30 runs at 02:30 local time, today if not yet past, else tomorrow", () => {
  const e = parseEvery("daily@02:30");
  assert.deepEqual(nextRun(e, at(2026, 12, 7, 1, 0)), at(2026, 12, 7, 2, 30));
  assert.deepEqual(nextRun(e, at(2026, 12, 7, 2, 30)), at(2026, 12, 8, 2, 30));
});

Deno.test("hourly, daily and weekly are the cron expressions they name", () => {
  assert.deepEqual(nextRun(parseEvery("hourly"), at(2026, 12, 7, 5, 59, 59)), at(2026, 12, 7, 6));
  assert.deepEqual(nextRun(parseEvery("daily"), at(2026, 12, 7, 5)), at(2026, 12, 8));
  // 2026-12-07 is a Monday: weekly is Monday at midnight, as systemd's.
  assert.deepEqual(nextRun(parseEvery("weekly"), at(2026, 12, 7, 0, 0)), at(2026, 12, 14));
});

Deno.test("cron steps, ranges and lists are read as cron reads them", () => {
  const e = parseEvery("*/15 9-17 * * 1-5");
  assert.deepEqual(nextRun(e, at(2026, 12, 7, 9, 7)), at(2026, 12, 7, 9, 15));
  assert.deepEqual(nextRun(e, at(2026, 12, 11, 17, 45)), at(2026, 12, 14, 9, 0)); // Fri -> Mon
  assert.deepEqual(nextRun(parseEvery("0 0 1,15 * *"), at(2026, 12, 2)), at(2026, 12, 15));
  assert.deepEqual(nextRun(parseEvery("0 0 29 2 *"), at(2026, 3, 1)), at(2028, 2, 29));
});

Deno.test("a day of month and a day of week both given mean either, as in cron", () => {
  // The 13th, or any Friday: from Monday 2026-12-07 the first is Friday the 11th.
  assert.deepEqual(nextRun(parseEvery("0 12 13 * 5"), at(2026, 12, 7)), at(2026, 12, 11, 12));
  // 7 is Sunday too.
  assert.deepEqual(nextRun(parseEvery("0 0 * * 7"), at(2026, 12, 7)), at(2026, 12, 13));
});

Deno.test("@every is the test and debug form: seconds after the last run", () => {
  const e = parseEvery("@every 2s");
  assert.deepEqual(nextRun(e, at(2026, 12, 7, 1, 0, 0)), at(2026, 12, 7, 1, 0, 2));
  assert.deepEqual(parseEvery("@every 5m"), { kind: "interval", text: "@every 5m", seconds: 300 });
});

Deno.test("a schedule that is not one is refused with what is accepted", () => {
  assert.throws(() => parseEvery("nightly"), /is not a schedule: give 5 cron fields/);
  assert.throws(() => parseEvery("61 * * * *"), /minute field "61" is outside 0-59/);
  assert.throws(() => parseEvery("daily@25:00"), /25:00 is no time/);
  assert.throws(() => parseEvery("@every 0s"), /at least 1s/);
  assert.throws(() => nextRun(parseEvery("0 0 31 2 *"), at(2026, 1, 1)), /never runs/);
});

Deno.test("onCalendar translates for systemd, with two lines for cron's day-of-month-or-week", () => {
  assert.deepEqual(onCalendar(parseEvery("daily@02:30")), ["*-*-* 02:30:00"]);
  assert.deepEqual(onCalendar(parseEvery("weekly")), ["Mon *-*-* 00:00:00"]);
  assert.deepEqual(onCalendar(parseEvery("*/20 9-10 * 6 1-2")), [
    "Mon,Tue *-06-* 09,10:00,20,40:00",
  ]);
  assert.deepEqual(onCalendar(parseEvery("0 12 13 * 5")), [
    "*-*-13 12:00:00",
    "Fri *-*-* 12:00:00",
  ]);
  assert.throws(() => onCalendar(parseEvery("@every 2s")), /test and debug form/);
});
