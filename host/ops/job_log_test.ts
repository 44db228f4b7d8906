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

Deno.test("a rebuild's and a compaction's progress records are shown in packs", () => {
  const record = { type: "progress", phase: "compact", files_done: 3, files_total: 3 };
  assert.equal(
    progressStatus({ ...record, bytes_done: 2 ** 30, bytes_total: 2 ** 30, final: true }),
    "compact 3/3 packs  1.0/1.0 GiB  done",
  );
});

Deno.test("an exit line counts only with the instance it was read for", () => {
  const lines = [
    JSON.stringify({ type: "exit", code: 0, instance: "i-other" }),
    JSON.stringify({ type: "exit", code: 0 }),
  ];
  assert.equal(readJobLines({}, lines).exit, undefined, "a Fargate task's log has none");
  assert.equal(readJobLines({}, lines, "i-0abc").exit, undefined);
  const own = JSON.stringify({ type: "exit", code: 4, instance: "i-0abc" });
  assert.equal(readJobLines({}, [...lines, own], "i-0abc").exit, 4);
  assert.equal(readJobLines({}, [own]).result, undefined, "an exit line is not a result");
});

Deno.test("an instance's exit line is read after a result document the job left unfinished", () => {
  const killed = ["{", '  "segments": 2,', '  "indexedPacks": '];
  const own = JSON.stringify({ type: "exit", code: 137, instance: "i-0abc" });
  const state = readJobLines(readJobLines({}, killed, "i-0abc"), [own], "i-0abc");
  assert.equal(state.exit, 137);
  assert.equal(state.pending, undefined);
  assert.equal(state.result, undefined);
});
