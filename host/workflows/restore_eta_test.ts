import assert from "node:assert/strict";
import type { PackState } from "../cold/pack_survey.ts";
import type { RestoreJob } from "../cold/restore_job.ts";
import type { Availability, RestoreTier } from "../storage/storage.ts";
import { etaLines, restoreEta, upgradeEta, upgradePreview } from "./restore_eta.ts";
import type { RestorePreview } from "./restore_estimate.ts";

const T0 = "2027-01-02T00:00:00.000Z";
const hoursAfter = (iso: string, h: number) => new Date(Date.parse(iso) + h * 3_600_000);

/** A DEEP_ARCHIVE job of `packs` packs asked for at T0 at `tier`. */
function job(packs: number, tier: RestoreTier = "bulk"): RestoreJob {
  return {
    version: 1,
    id: "0123456789ab",
    repo: "s3://bucket/repo",
    snapshot: "ab".repeat(32),
    path: "/",
    target: "/tmp/out",
    tier,
    days: 3,
    packs: Array.from({ length: packs }, (_, i) => `packs/${i}`),
    requestedAt: T0,
    requests: [{ at: T0, tier, packs }],
  };
}

/** A survey of `ready` restored packs and `restoring` ones still thawing. */
function survey(ready: number, restoring: number): PackState[] {
  const state = (a: Availability) => (i: number): PackState => ({
    name: `packs/${i}`,
    bytes: 1 << 20,
    storageClass: "DEEP_ARCHIVE",
    availability: a,
  });
  return [
    ...Array.from({ length: ready }, (_, i) => state({ state: "restored", until: T0 })(i)),
    ...Array.from({ length: restoring }, (_, i) => state({ state: "restoring" })(ready + i)),
  ];
}

Deno.test("a job with no pack ready yet gives the tier's window only, and says why", () => {
  const eta = restoreEta(job(10), survey(0, 10), hoursAfter(T0, 2));
  assert.equal(eta.basis, "window");
  assert.equal(eta.expected, null);
  assert.deepEqual(eta.packs, { ready: 0, total: 10 });
  assert.equal(eta.window?.earliest, T0);
  assert.equal(eta.window?.latest, hoursAfter(T0, 48).toISOString());
  assert.equal(eta.window?.documented, "DEEP_ARCHIVE bulk: within 48 hours");
  assert.match(
    eta.says,
    /too early to extrapolate: expect them by 2027-01-04 00:00 UTC, the window's end$/,
  );
});

Deno.test("a job with some packs ready expects the rest at the same pace", () => {
  // 4 of 10 ready 6 hours after the request: all 10 about 15 hours after it.
  const eta = restoreEta(job(10), survey(4, 6), hoursAfter(T0, 6));
  assert.equal(eta.basis, "pace");
  assert.equal(eta.expected, hoursAfter(T0, 15).toISOString());
  assert.deepEqual(eta.packs, { ready: 4, total: 10 });
  assert.match(eta.says, /^expected about 2027-01-02 15:00 UTC, from 4 of the 10 packs/);
});

Deno.test("a slow pace is capped at the window's end, which S3 documents", () => {
  // 1 of 10 after 12 hours would be 120 hours at that pace; bulk ends at 48.
  const eta = restoreEta(job(10), survey(1, 9), hoursAfter(T0, 12));
  assert.equal(eta.expected, hoursAfter(T0, 48).toISOString());
  assert.match(eta.says, /the window's end; the pace so far is slower/);
});

Deno.test("a job with every pack ready says so", () => {
  const eta = restoreEta(job(3), survey(3, 0), hoursAfter(T0, 30));
  assert.equal(eta.basis, "ready");
  assert.deepEqual(eta.packs, { ready: 3, total: 3 });
  assert.equal(eta.says, "every pack is readable (3 of 3)");
});

Deno.test("a job past the window's end with packs not ready is overdue", () => {
  const eta = restoreEta(job(5, "standard"), survey(2, 3), hoursAfter(T0, 13));
  assert.equal(eta.basis, "overdue");
  assert.equal(eta.expected, null);
  assert.match(
    eta.says,
    /^overdue: 3 of 5 packs not readable yet, though S3's window \(DEEP_ARCHIVE standard: within 12 hours\) closed at 2027-01-02 12:00 UTC/,
  );
});

Deno.test("a tier upgrade restarts the window from the upgrade, and extrapolates from there", () => {
  const upgraded = job(10);
  const at = hoursAfter(T0, 4).toISOString();
  upgraded.tier = "standard";
  upgraded.requests.push({ at, tier: "standard", packs: 8 });
  const early = restoreEta(upgraded, survey(2, 8), hoursAfter(T0, 5));
  assert.equal(early.window?.from, at);
  assert.equal(early.window?.earliest, at);
  assert.equal(early.window?.latest, hoursAfter(T0, 16).toISOString());
  assert.equal(early.basis, "window", "the 2 ready before the upgrade are not its pace");
  assert.deepEqual(early.tierChanges, [{ at: T0, tier: "bulk" }, { at, tier: "standard" }]);
  // 4 of the 8 asked again are ready 2 hours after the upgrade: the rest 2 hours later.
  const later = restoreEta(upgraded, survey(6, 4), hoursAfter(T0, 6));
  assert.equal(later.expected, hoursAfter(T0, 8).toISOString());
  assert.match(
    etaLines(later).join("\n"),
    /requested 2027-01-02 00:00 UTC \(bulk, standard from 2027-01-02 04:00 UTC\)/,
  );
});

Deno.test("an upgrade late in a bulk window keeps the bulk window's end", () => {
  const upgraded = job(10);
  upgraded.requests.push({ at: hoursAfter(T0, 40).toISOString(), tier: "standard", packs: 10 });
  const eta = restoreEta(upgraded, survey(0, 10), hoursAfter(T0, 41));
  assert.equal(eta.window?.latest, hoursAfter(T0, 48).toISOString());
});

Deno.test("upgradeEta gives the window a faster tier would have from now, and none for a slower one", () => {
  const now = hoursAfter(T0, 3);
  const up = upgradeEta(job(10), survey(0, 10), "standard", now);
  assert.equal(up?.tier, "standard");
  assert.equal(up?.window?.latest, hoursAfter(T0, 15).toISOString());
  assert.equal(upgradeEta(job(10, "standard"), survey(0, 10), "bulk", now), null);
  assert.equal(upgradeEta(job(10), survey(10, 0), "standard", now), null, "nothing to upgrade");
});

Deno.test("an upgrade is priced as asking again for every pack still being restored", () => {
  const preview = { plan: {}, coldPacks: [], states: survey(1, 2) } as unknown as RestorePreview;
  const states = upgradePreview(preview).states.map((s) => s.availability.state);
  assert.deepEqual(states, ["restored", "archived", "archived"]);
});

Deno.test("a job from an older file without requests runs its window from requestedAt", () => {
  const old = job(4, "standard");
  old.requests = [];
  const eta = restoreEta(old, survey(0, 4), hoursAfter(T0, 1));
  assert.equal(eta.window?.latest, hoursAfter(T0, 12).toISOString());
});

Deno.test("a damaged job record without a valid request time gives no window instead of failing", () => {
  const damaged = job(4);
  damaged.requestedAt = "yesterday";
  damaged.requests = [{ at: "not a time", tier: "bulk", packs: 4 }];
  const eta = restoreEta(damaged, survey(1, 3), hoursAfter(T0, 1));
  assert.equal(eta.window, null);
  assert.equal(eta.basis, "unknown");
  assert.equal(eta.says, "3 of 4 packs not readable yet; no known window for its tier");
});

Deno.test("an upgrade that can finish no sooner than the slower window ends leaves that window whole", () => {
  // GLACIER bulk: 5-12 hours from T0. Standard asked at T0+10: 3-5 hours, so no sooner than T0+13,
  // after bulk has ended: the window is bulk's, never one that ends before it begins.
  const upgraded = job(4);
  upgraded.tier = "standard";
  upgraded.requests.push({ at: hoursAfter(T0, 10).toISOString(), tier: "standard", packs: 4 });
  const eta = restoreEta(upgraded, glacier(survey(0, 4)), hoursAfter(T0, 11));
  assert.deepEqual(
    [eta.window?.tier, eta.window?.from, eta.window?.earliest, eta.window?.latest],
    ["bulk", T0, hoursAfter(T0, 5).toISOString(), hoursAfter(T0, 12).toISOString()],
  );
});

Deno.test("a job with packs in two classes is ready no sooner than the slower class's shortest time", () => {
  // Bulk: GLACIER 5-12 hours, DEEP_ARCHIVE within 48 hours; the job needs both.
  const states = survey(0, 4).map((s, i) => i < 2 ? s : { ...s, storageClass: "GLACIER" as const });
  const eta = restoreEta(job(4), states, hoursAfter(T0, 1));
  assert.equal(eta.window?.earliest, hoursAfter(T0, 5).toISOString());
  assert.equal(eta.window?.latest, hoursAfter(T0, 48).toISOString());
  assert.equal(
    eta.window?.documented,
    "DEEP_ARCHIVE bulk: within 48 hours; GLACIER bulk: 5-12 hours",
  );
});

/** `states` with every pack in GLACIER. */
function glacier(states: PackState[]): PackState[] {
  return states.map((s) => ({ ...s, storageClass: "GLACIER" }));
}
