import assert from "node:assert/strict";
import { listJobs, loadJob, newJobId, removeJob, type RestoreJob, saveJob } from "./restore_job.ts";

function job(id = newJobId()): RestoreJob {
  return {
    version: 1,
    id,
    repo: "s3://bucket/prefix",
    snapshot: "ab".repeat(32),
    path: "/docs",
    target: "/tmp/out",
    tier: "bulk",
    days: 3,
    packs: ["packs/" + "cd".repeat(32)],
    requestedAt: "2026-01-01T00:00:00.000Z",
    requests: [{ at: "2026-01-01T00:00:00.000Z", tier: "bulk", packs: 1 }],
  };
}

Deno.test("a saved restore job reads back the same, private to its owner, and is removed", async () => {
  const dir = await Deno.makeTempDir();
  const j = job();
  const path = saveJob(j, dir);
  assert.deepEqual(loadJob(j.id, dir), j);
  assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
  j.tier = "standard";
  saveJob(j, dir);
  assert.equal(loadJob(j.id, dir).tier, "standard");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [`${j.id}.json`]);
  removeJob(j.id, dir);
  removeJob(j.id, dir);
  assert.throws(() => loadJob(j.id, dir), /no restore job/);
});

Deno.test("loadJob refuses ids that are not job ids and files that are not jobs", async () => {
  const dir = await Deno.makeTempDir();
  assert.throws(() => loadJob("../../etc/passwd", dir), /not a job id/);
  const id = newJobId();
  Deno.writeTextFileSync(`${dir}/${id}.json`, JSON.stringify({ version: 2, id }));
  assert.throws(() => loadJob(id, dir), /not a version 1 job/);
  Deno.writeTextFileSync(`${dir}/${id}.json`, '{"version": 1, "id": "'); // cut short
  assert.throws(() => loadJob(id, dir), /is not JSON \(damaged\?\)/);
});

Deno.test("listJobs lists the jobs of a folder oldest first, names damaged files, and an absent folder has none", async () => {
  const dir = await Deno.makeTempDir();
  assert.deepEqual(listJobs(`${dir}/absent`), { jobs: [], damaged: [] });
  const late = { ...job(), requestedAt: "2026-02-01T00:00:00.000Z" };
  const early = job();
  saveJob(late, dir);
  saveJob(early, dir);
  const bad = newJobId();
  Deno.writeTextFileSync(`${dir}/${bad}.json`, "{");
  Deno.writeTextFileSync(`${dir}/notes.txt`, "not a job");
  const listed = listJobs(dir);
  assert.deepEqual(listed.jobs.map((j) => j.id), [early.id, late.id]);
  assert.deepEqual(listed.damaged, [`${bad}.json`]);
});
