/**
 * Keep policies for `forget` (docs/gc.md "Forget"): which snapshots a policy keeps, and why.
 * Pure: no storage, no clock. The caller decides each snapshot's `time` (forget: a time the
 * store set, `snapshot_dates.ts`; docs/security.md: a client's claimed time must not decide
 * retention).
 *
 * Semantics (as restic's `forget`):
 * - Snapshots are grouped by host and paths (the set of backed-up paths); each group is decided
 *   on its own, newest first.
 * - `last N` keeps the N newest snapshots. `hourly/daily/weekly/monthly/yearly N` keep the
 *   newest snapshot of each of the N newest buckets (UTC hour, day, ISO week, month, year) that
 *   hold a snapshot; empty buckets do not count.
 * - `within DUR` keeps every snapshot no older than DUR before the group's newest snapshot
 *   (not before "now": a repository nobody backs up to is not emptied by the calendar).
 * - `tags` keeps every snapshot that has all tags of one entry (`"a,b"` means a and b).
 * - A snapshot kept by any rule is kept, with every rule that kept it as a reason; the rest
 *   are forgotten. A policy with no rule at all is refused (`RangeError`): it would forget
 *   everything.
 *
 * @module
 */

/** One snapshot as the policy sees it. `time` is ISO 8601. */
export interface PolicySnapshot {
  id: string;
  time: string;
  /**
   * The client's claimed time (ISO 8601), only to order snapshots whose `time` is the same
   * instant: S3 dates objects to the whole second, so two backups a second apart can tie, and
   * `last 1` must then keep the one written later. It can reorder nothing the store dated
   * apart. Ties left after it go by id.
   */
  claimed?: string;
  host: string;
  paths: string[];
  tags: string[];
}

/** The rules; a snapshot kept by any one of them is kept. Counts are positive integers. */
export interface KeepPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** A duration: digits and units `y` (years), `m` (months), `w`, `d`, `h`; e.g. `1y6m`, `30d`. */
  within?: string;
  /** Tag lists; a snapshot with every tag of one list is kept. */
  tags?: string[];
}

/** A snapshot (with whatever else the caller gave) and why it is kept (empty if forgotten). */
export type KeepDecision<T extends PolicySnapshot = PolicySnapshot> = T & { reasons: string[] };

/** Both lists newest first, group by group (groups ordered by host, then paths). */
export interface KeepPlan<T extends PolicySnapshot = PolicySnapshot> {
  keep: KeepDecision<T>[];
  forget: KeepDecision<T>[];
}

const bucketRules = [
  ["last", (_: Date, id: string) => id, "last snapshot"],
  ["hourly", (d: Date) => d.toISOString().slice(0, 13), "hourly snapshot"],
  ["daily", (d: Date) => d.toISOString().slice(0, 10), "daily snapshot"],
  ["weekly", (d: Date) => isoWeek(d), "weekly snapshot"],
  ["monthly", (d: Date) => d.toISOString().slice(0, 7), "monthly snapshot"],
  ["yearly", (d: Date) => d.toISOString().slice(0, 4), "yearly snapshot"],
] as const;

/** Whether the policy has at least one rule. */
export function hasRule(policy: KeepPolicy): boolean {
  return bucketRules.some(([name]) => policy[name] !== undefined) ||
    policy.within !== undefined || (policy.tags?.length ?? 0) > 0;
}

/** Splits snapshots into kept (with reasons) and forgotten by `policy`; other fields stay. */
export function applyKeepPolicy<T extends PolicySnapshot>(
  snapshots: readonly T[],
  policy: KeepPolicy,
): KeepPlan<T> {
  if (!hasRule(policy)) {
    throw new RangeError("a keep policy needs at least one rule; without one it would forget all");
  }
  for (const [name] of bucketRules) {
    const n = policy[name];
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
      throw new RangeError(`keep-${name} must be a positive whole number, not "${n}"`);
    }
  }
  const within = policy.within === undefined ? undefined : parseDuration(policy.within);
  const tagLists = (policy.tags ?? []).map(splitTags);

  const groups = new Map<string, T[]>();
  for (const s of snapshots) {
    const key = groupKey(s);
    groups.set(key, [...groups.get(key) ?? [], s]);
  }
  const plan: KeepPlan<T> = { keep: [], forget: [] };
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!.map((s) => ({ s, at: timeOf(s), claimed: claimedOf(s) }))
      .sort((a, b) =>
        b.at - a.at || b.claimed - a.claimed || (a.s.id < b.s.id ? 1 : a.s.id > b.s.id ? -1 : 0)
      );
    const reasons = group.map((): string[] => []);
    for (const [name, bucketOf, reason] of bucketRules) {
      let left = policy[name] ?? 0;
      let previous: string | undefined;
      group.forEach(({ s, at }, i) => {
        const bucket = bucketOf(new Date(at), s.id);
        if (left > 0 && bucket !== previous) {
          reasons[i].push(reason);
          left--;
        }
        previous = bucket;
      });
    }
    if (within && group.length > 0) {
      const cutoff = subtract(new Date(group[0].at), within).getTime();
      group.forEach(({ at }, i) => {
        if (at >= cutoff) reasons[i].push(`within ${policy.within}`);
      });
    }
    group.forEach(({ s }, i) => {
      for (const list of tagLists) {
        if (list.every((t) => s.tags.includes(t))) reasons[i].push(`tag "${list.join(",")}"`);
      }
      (reasons[i].length > 0 ? plan.keep : plan.forget).push({ ...s, reasons: reasons[i] });
    });
  }
  return plan;
}

/** A duration of `parseDuration`. */
export interface Duration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

/** Parses `1y6m`, `2w`, `30d`, `12h` (units y, m = months, w, d, h); `RangeError` otherwise. */
export function parseDuration(text: string): Duration {
  if (!/^(\d+[ymwdh])+$/.test(text)) {
    throw new RangeError(
      `"${text}" is not a duration: use digits and units y, m (months), w, d, h, e.g. 30d or 1y6m`,
    );
  }
  const d: Duration = { years: 0, months: 0, days: 0, hours: 0 };
  for (const [, n, unit] of text.matchAll(/(\d+)([ymwdh])/g)) {
    const v = Number(n);
    if (unit === "y") d.years += v;
    else if (unit === "m") d.months += v;
    else if (unit === "w") d.days += 7 * v;
    else if (unit === "d") d.days += v;
    else d.hours += v;
  }
  return d;
}

/** `at` minus a duration, in UTC calendar arithmetic. */
function subtract(at: Date, d: Duration): Date {
  const t = new Date(at);
  t.setUTCFullYear(
    t.getUTCFullYear() - d.years,
    t.getUTCMonth() - d.months,
    t.getUTCDate() - d.days,
  );
  t.setUTCHours(t.getUTCHours() - d.hours);
  return t;
}

/** Host and paths: the unit a policy is applied to. */
export function groupKey(s: { host: string; paths: string[] }): string {
  return JSON.stringify([s.host, [...s.paths].sort()]);
}

/** `"a,b"` → `["a", "b"]`. */
export function splitTags(list: string): string[] {
  return list.split(",").map((t) => t.trim()).filter((t) => t !== "");
}

function timeOf(s: PolicySnapshot): number {
  const at = Date.parse(s.time);
  if (Number.isNaN(at)) throw new RangeError(`snapshot "${s.id}" has no valid time ("${s.time}")`);
  return at;
}

/** The claimed time as a tie-break; a missing or unreadable one sorts as oldest. */
function claimedOf(s: PolicySnapshot): number {
  const at = s.claimed === undefined ? NaN : Date.parse(s.claimed);
  return Number.isNaN(at) ? -Infinity : at;
}

/** The ISO 8601 week of a UTC date: `2026-W48`. */
function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7)); // the Thursday of that week
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}
