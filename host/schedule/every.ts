/**
 * When a scheduled task runs (docs/schedules.md "When"): a 5-field cron expression
 * (`minute hour day-of-month month day-of-week`, local time), a word (`hourly`, `daily`,
 * `daily@HH:MM`, `weekly`, `weekly@HH:MM`), or the test and debug form `@every N[s|m]`.
 * {@link parseEvery} reads one, {@link nextRun} finds the next run after an instant, and
 * {@link onCalendar} translates one for a systemd timer.
 *
 * @module
 */

/** A parsed `--every`: cron fields, or a fixed interval (the `@every` test and debug form). */
export type Every =
  | {
    readonly kind: "cron";
    readonly text: string;
    readonly minute: readonly number[];
    readonly hour: readonly number[];
    readonly dom: readonly number[];
    readonly month: readonly number[];
    /** 0 = Sunday ... 6 = Saturday (7 is read as 0). */
    readonly dow: readonly number[];
    /** Whether day-of-month, and day-of-week, were `*` (cron: both restricted means either). */
    readonly domAny: boolean;
    readonly dowAny: boolean;
  }
  | { readonly kind: "interval"; readonly text: string; readonly seconds: number };

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

const WORDS: Record<string, string> = {
  hourly: "0 * * * *",
  daily: "0 0 * * *",
  // Monday at midnight, as systemd's `weekly`.
  weekly: "0 0 * * 1",
};

const HOW = 'give 5 cron fields ("30 2 * * *"), hourly, daily, daily@HH:MM, weekly or weekly@HH:MM';

/** Reads `text`; a mistake is a TypeError quoting it and saying what is accepted. */
export function parseEvery(text: string): Every {
  const spec = text.trim();
  const interval = /^@every\s+(\d+)(s|m)$/.exec(spec);
  if (interval) {
    const seconds = Number(interval[1]) * (interval[2] === "m" ? 60 : 1);
    if (seconds < 1) throw new TypeError(`--every "${text}": the interval must be at least 1s`);
    return { kind: "interval", text: spec, seconds };
  }
  const at = /^(daily|weekly)@(\d{1,2}):(\d{2})$/.exec(spec);
  let cron = WORDS[spec];
  if (at) {
    const [h, m] = [Number(at[2]), Number(at[3])];
    if (h > 23 || m > 59) throw new TypeError(`--every "${text}": ${at[2]}:${at[3]} is no time`);
    cron = `${m} ${h} * * ${at[1] === "weekly" ? 1 : "*"}`;
  }
  const fields = (cron ?? spec).split(/\s+/);
  if (fields.length !== 5) throw new TypeError(`--every "${text}" is not a schedule: ${HOW}`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, i, text));
  return {
    kind: "cron",
    text: spec,
    minute,
    hour,
    dom,
    month,
    dow: [...new Set(dow.map((d) => d % 7))].sort((a, b) => a - b),
    domAny: fields[2] === "*",
    dowAny: fields[4] === "*",
  };
}

/** One cron field: `*`, `N`, `A-B`, each optionally `/STEP`, comma-separated. */
function parseField(field: string, index: number, text: string): number[] {
  const { name, min, max } = FIELDS[index];
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new TypeError(`--every "${text}": the ${name} field "${field}" is not cron`);
    const from = m[1] === "*" ? min : Number(m[2]);
    const to = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < min || to > max || from > to || step < 1) {
      throw new TypeError(
        `--every "${text}": the ${name} field "${field}" is outside ${min}-${max}`,
      );
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether `every` (cron) runs on the day of `d` (local time). */
function dayMatches(every: Extract<Every, { kind: "cron" }>, d: Date): boolean {
  const dom = every.dom.includes(d.getDate());
  const dow = every.dow.includes(d.getDay());
  if (every.domAny && every.dowAny) return true;
  if (every.domAny) return dow;
  if (every.dowAny) return dom;
  return dom || dow; // cron: both restricted means either
}

/**
 * The first run of `every` strictly after `after` (local time, whole minutes for cron).
 * Throws a RangeError for a cron expression that never matches (`0 0 31 2 *`).
 */
export function nextRun(every: Every, after: Date): Date {
  if (every.kind === "interval") return new Date(after.getTime() + every.seconds * 1000);
  const t = new Date(after.getTime());
  t.setSeconds(0, 0);
  t.setMinutes(t.getMinutes() + 1);
  // Each step moves to the next month, day, hour or minute that may match: a few thousand at most.
  for (let steps = 0; steps < 100_000; steps++) {
    if (!every.month.includes(t.getMonth() + 1)) {
      t.setMonth(t.getMonth() + 1, 1);
      t.setHours(0, 0, 0, 0);
    } else if (!dayMatches(every, t)) {
      t.setDate(t.getDate() + 1);
      t.setHours(0, 0, 0, 0);
    } else if (!every.hour.includes(t.getHours())) {
      t.setHours(t.getHours() + 1, 0, 0, 0);
    } else if (!every.minute.includes(t.getMinutes())) {
      t.setMinutes(t.getMinutes() + 1, 0, 0);
    } else {
      return t;
    }
  }
  throw new RangeError(`--every "${every.text}" never runs`);
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * The systemd `OnCalendar=` values for `every` (systemd.time(7)): one, or two when cron's
 * "day of month or day of week" needs both (a timer fires on any of its `OnCalendar` lines).
 * The `@every` form has no calendar: a TypeError says so.
 */
export function onCalendar(every: Every): string[] {
  if (every.kind === "interval") {
    throw new TypeError(
      `--every "${every.text}" is the test and debug form; a systemd timer needs a calendar ` +
        "schedule (cron fields, hourly, daily@HH:MM, ...)",
    );
  }
  const list = (values: readonly number[], all: number, pad: number) =>
    values.length === all ? "*" : values.map((v) => String(v).padStart(pad, "0")).join(",");
  const time = `${list(every.hour, 24, 2)}:${list(every.minute, 60, 2)}:00`;
  const month = list(every.month, 12, 2);
  const dom = every.domAny ? "*" : list(every.dom, 31, 2);
  const dow = every.dowAny ? "" : `${every.dow.map((d) => DAYS[d]).join(",")} `;
  if (!every.domAny && !every.dowAny) {
    return [`*-${month}-${dom} ${time}`, `${dow}*-${month}-* ${time}`];
  }
  return [`${dow}*-${month}-${dom} ${time}`];
}
