import assert from "node:assert/strict";
import type { RestoreEta } from "../workflows/restore_eta.ts";
import { restoreJobsBody } from "./restore_jobs_page.ts";

const eta: RestoreEta = {
  job: "0123456789ab",
  tier: "standard",
  requestedAt: "2027-01-02T00:00:00.000Z",
  tierChanges: [
    { at: "2027-01-02T00:00:00.000Z", tier: "bulk" },
    { at: "2027-01-02T04:00:00.000Z", tier: "standard" },
  ],
  window: {
    from: "2027-01-02T04:00:00.000Z",
    tier: "standard",
    earliest: "2027-01-02T04:00:00.000Z",
    latest: "2027-01-02T16:00:00.000Z",
    documented: "DEEP_ARCHIVE standard: within 12 hours",
  },
  packs: { ready: 2, total: 5 },
  expected: null,
  basis: "overdue",
  says: "overdue: 3 of 5 packs not readable yet",
  at: "2027-01-02T17:00:00.000Z",
};

Deno.test("the restore jobs page shows each job's window, packs and ETA, and data as text", () => {
  const body = restoreJobsBody({
    dir: "/state/restore-jobs",
    jobs: [{
      id: eta.job,
      snapshot: "ab".repeat(32),
      path: "/docs",
      target: "/tmp/<b>out</b>",
      tier: "standard",
      days: 3,
      eta,
    }, {
      id: "ba9876543210",
      snapshot: "cd".repeat(32),
      path: "/",
      target: "/tmp/x",
      tier: "bulk",
      days: 3,
      error: 'pack "packs/x" is in the index but not in the repository',
    }],
    damaged: ["ffffffffffff.json"],
  }).value;
  assert.match(body, /<tr data-job="0123456789ab" data-basis="overdue">/);
  assert.match(
    body,
    /data-earliest="2027-01-02T04:00:00.000Z"\s+data-latest="2027-01-02T16:00:00.000Z"/,
  );
  assert.match(body, /data-ready="2" data-total="5">2\/5</);
  assert.match(body, /bulk from 2027-01-02 00:00 UTC.*standard from 2027-01-02 04:00 UTC/);
  assert.match(body, /class="expected error"[^>]*>overdue: 3 of 5 packs not readable yet</);
  assert.match(body, /\/tmp\/&lt;b&gt;out&lt;\/b&gt;/);
  assert.match(body, /is in the index but not in the repository/);
  assert.match(body, /Not readable as restore jobs: ffffffffffff\.json/);
});

Deno.test("the restore jobs page says when no job waits", () => {
  const body = restoreJobsBody({ dir: "/state", jobs: [], damaged: [] }).value;
  assert.match(body, /No restore job is waiting for this repository/);
});
