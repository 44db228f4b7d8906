import assert from "node:assert/strict";
import { KEPT_RUNS, loadRuns, newRunId, type RunRecord, saveRun } from "./task_runs.ts";

Deno.test("skips recorded while a run hangs never push the running run's record out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-runs-" });
  try {
    const at = (i: number) => new Date(Date.UTC(2026, 11, 7, 0, 0, i)).toISOString();
    const running: RunRecord = {
      id: newRunId(),
      trigger: "schedule",
      start: at(0),
      state: "running",
      pid: 4242,
      pidStart: "1",
    };
    saveRun(dir, running);
    for (let i = 1; i <= KEPT_RUNS + 10; i++) {
      saveRun(dir, { id: newRunId(), trigger: "schedule", start: at(i), state: "skipped" });
    }
    const runs = loadRuns(dir);
    assert.equal(runs.length, KEPT_RUNS);
    assert.deepEqual(runs[0], running);
    assert.equal(runs[runs.length - 1].start, at(KEPT_RUNS + 10));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
