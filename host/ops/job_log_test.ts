/**
 * Sorting a job's log lines (job_log.ts): progress records, and the `--json` result document
 * that the `awslogs` driver delivers one line per event, possibly across reads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { progressStatus, readJobLines, resultSummary, taskLogStream } from "./job_log.ts";

Deno.test("a result document indented over many lines is read whole, even when its lines come in two reads", () => {
  const lines = JSON.stringify({ packs: 2, nested: { a: 1 } }, null, 2).split("\n");
  let state = readJobLines({}, ["permafrost: a warning", ...lines.slice(0, 3)]);
  assert.equal(state.result, undefined);
  state = readJobLines(state, lines.slice(3));
  assert.deepEqual(state.result, { packs: 2, nested: { a: 1 } });
  assert.equal(state.pending, undefined);
  assert.equal(resultSummary(state.result!), "packs=2");
});

Deno.test("the latest progress record is kept and shown with files, bytes and an ETA from the rate so far", () => {
  const record = (bytes: number) =>
    JSON.stringify({
      type: "progress",
      phase: "restore",
      files_done: 10,
      files_total: 40,
      bytes_done: bytes,
      bytes_total: 4 * 2 ** 30,
      elapsed_s: 60,
      final: false,
    });
  const state = readJobLines({}, [record(2 ** 30), "not json {", record(2 ** 31)]);
  assert.equal(progressStatus(state.progress!), "restore 10/40 files  2.0/4.0 GiB  ETA 1:00");
});

Deno.test("a task's stream is the job's prefix, the container's name and the task's id", () => {
  assert.equal(
    taskLogStream("permafrost-rebuild", "arn:aws:ecs:eu-west-1:123456789012:task/pf/abc123"),
    "permafrost-rebuild/permafrost/abc123",
  );
});
