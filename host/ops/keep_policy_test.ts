import assert from "node:assert/strict";
import {
  applyKeepPolicy,
  type KeepPlan,
  type KeepPolicy,
  parseDuration,
  type PolicySnapshot,
} from "./keep_policy.ts";

/**
 * A hand-made timeline, one host and one path, newest last (times UTC):
 *
 * | id | time                | tags    | hour / day / ISO week / month / year buckets     |
 * |----|---------------------|---------|--------------------------------------------------|
 * | a  | 2024-06-15 10:00    | -       | 2024 only                                        |
 * | b  | 2025-11-03 09:00    | monthly | Nov 2025, week 2025-W45                          |
 * | c  | 2025-12-20 08:00    | -       | Dec 2025, week 2025-W51                          |
 * | d  | 2026-01-05 12:00    | -       | Jan 2026, week 2026-W02 (Mon)                    |
 * | e  | 2026-01-09 23:30    | -       | Jan 2026, week 2026-W02 (Fri)                    |
 * | f  | 2026-01-10 01:00    | keep    | Sat 10 Jan, hour 01, week 2026-W02               |
 * | g  | 2026-01-10 01:45    | -       | Sat 10 Jan, hour 01 (same hour as f, newer)      |
 * | h  | 2026-01-10 03:00    | -       | Sat 10 Jan, hour 03: the newest                  |
 */
const timeline: PolicySnapshot[] = [
  ["a", "2024-06-15T10:00:00Z", []],
  ["b", "2025-11-03T09:00:00Z", ["monthly"]],
  ["c", "2025-12-20T08:00:00Z", []],
  ["d", "2026-01-05T12:00:00Z", []],
  ["e", "2026-01-09T23:30:00Z", []],
  ["f", "2026-01-10T01:00:00Z", ["keep"]],
  ["g", "2026-01-10T01:45:00Z", []],
  ["h", "2026-01-10T03:00:00Z", []],
].map(([id, time, tags]) => ({
  id: id as string,
  time: time as string,
  host: "laptop",
  paths: ["/home"],
  tags: tags as string[],
}));

const ids = (plan: KeepPlan) => ({
  keep: plan.keep.map((s) => s.id).join(""),
  forget: plan.forget.map((s) => s.id).join(""),
});
const why = (plan: KeepPlan, id: string) => plan.keep.find((s) => s.id === id)?.reasons;
const run = (policy: KeepPolicy, snaps = timeline) => applyKeepPolicy(snaps, policy);

Deno.test("keep-last keeps the newest N and forgets the rest, newest first", () => {
  const plan = run({ last: 3 });
  assert.deepEqual(ids(plan), { keep: "hgf", forget: "edcba" });
  assert.deepEqual(why(plan, "h"), ["last snapshot"]);
});

Deno.test("keep-hourly keeps the newest snapshot of each of the last N hours that have one", () => {
  // hours, newest first: 03 (h), 01 (g, not f), 23 on the 9th (e)
  assert.deepEqual(ids(run({ hourly: 3 })), { keep: "hge", forget: "fdcba" });
});

Deno.test("keep-daily and keep-weekly count only days and weeks that hold a snapshot", () => {
  // days: 10 Jan (h), 9 Jan (e), 5 Jan (d)
  assert.deepEqual(ids(run({ daily: 3 })), { keep: "hed", forget: "gfcba" });
  // ISO weeks: 2026-W02 (h), 2025-W51 (c), 2025-W45 (b)
  assert.deepEqual(ids(run({ weekly: 3 })), { keep: "hcb", forget: "gfeda" });
});

Deno.test("keep-monthly and keep-yearly keep each bucket's newest snapshot", () => {
  // months: Jan 2026 (h), Dec 2025 (c), Nov 2025 (b), Jun 2024 (a)
  assert.deepEqual(ids(run({ monthly: 12 })), { keep: "hcba", forget: "gfed" });
  // years: 2026 (h), 2025 (c), 2024 (a)
  assert.deepEqual(ids(run({ yearly: 5 })), { keep: "hca", forget: "gfedb" });
});

Deno.test("keep-within counts back from the group's newest snapshot, not from now", () => {
  // newest is 2026-01-10 03:00; 2d → from 2026-01-08 03:00
  assert.deepEqual(ids(run({ within: "2d" })), { keep: "hgfe", forget: "dcba" });
  // 1m → from 2025-12-10 03:00
  const plan = run({ within: "1m" });
  assert.deepEqual(ids(plan), { keep: "hgfedc", forget: "ba" });
  assert.deepEqual(why(plan, "c"), ["within 1m"]);
});

Deno.test("keep-tag keeps snapshots with every tag of one list", () => {
  assert.deepEqual(ids(run({ tags: ["keep", "monthly"] })), { keep: "fb", forget: "hgedca" });
  assert.deepEqual(ids(run({ tags: ["keep,monthly"] })), { keep: "", forget: "hgfedcba" });
});

Deno.test("a snapshot kept by several rules lists every reason", () => {
  const plan = run({ last: 1, daily: 2, yearly: 2, tags: ["keep"] });
  assert.deepEqual(ids(plan), { keep: "hfec", forget: "gdba" });
  assert.deepEqual(why(plan, "h"), ["last snapshot", "daily snapshot", "yearly snapshot"]);
  assert.deepEqual(why(plan, "f"), ['tag "keep"']);
});

Deno.test("each host and set of paths is its own group", () => {
  const other = timeline.slice(0, 3).map((s) => ({ ...s, id: s.id.toUpperCase(), host: "nas" }));
  const morePaths = timeline.slice(0, 2).map((s) => ({
    ...s,
    id: `${s.id}2`,
    paths: ["/home", "/etc"],
  }));
  const plan = run({ last: 1 }, [...timeline, ...other, ...morePaths]);
  assert.deepEqual(plan.keep.map((s) => s.id).sort(), ["C", "b2", "h"]);
  assert.equal(plan.forget.length, timeline.length + other.length + morePaths.length - 3);
});

Deno.test("snapshots the store dated to the same second are ordered by their claimed time, then id", () => {
  // S3 dates objects to the whole second: two backups in one second tie on `time`.
  const second = "2026-01-10T03:00:00.000Z";
  const tied = (id: string, claimed?: string): PolicySnapshot => ({
    id,
    time: second,
    claimed,
    host: "laptop",
    paths: ["/home"],
    tags: [],
  });
  // by id alone "z" would win; "a" claims the later time, so keep-last 1 keeps "a"
  const both = [tied("z", "2026-01-10T03:00:00.100Z"), tied("a", "2026-01-10T03:00:00.900Z")];
  assert.deepEqual(ids(run({ last: 1 }, both)), { keep: "a", forget: "z" });
  assert.deepEqual(ids(run({ last: 1 }, [...both].reverse())), { keep: "a", forget: "z" });
  // the claim orders only within a tie: a store time a second later wins over any claim
  const later = { ...tied("b", "2020-01-01T00:00:00Z"), time: "2026-01-10T03:00:01.000Z" };
  assert.deepEqual(ids(run({ last: 1 }, [...both, later])), { keep: "b", forget: "az" });
  // without claims, ties go by id (highest first), as before
  assert.deepEqual(ids(run({ last: 1 }, [tied("a"), tied("z")])), { keep: "z", forget: "a" });
});

Deno.test("a policy without any rule is refused rather than forgetting everything", () => {
  assert.throws(() => run({}), RangeError);
  assert.throws(() => run({ tags: [] }), RangeError);
  assert.throws(() => run({ last: 0 }), RangeError);
});

Deno.test("parseDuration reads years, months, weeks, days and hours", () => {
  assert.deepEqual(parseDuration("1y6m2w3d4h"), { years: 1, months: 6, days: 17, hours: 4 });
  assert.deepEqual(parseDuration("30d"), { years: 0, months: 0, days: 30, hours: 0 });
  for (const bad of ["", "30", "d", "3x", "-1d", "1.5d"]) {
    assert.throws(() => parseDuration(bad), RangeError, bad);
  }
});
