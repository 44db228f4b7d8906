/**
 * The progress events (host/ops/progress.ts) of a backup and a restore, seen through the
 * operations' `onProgress`.
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import type { ProgressEvent } from "../host/ops/progress.ts";
import { executeRestore } from "../host/ops/restore.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { describeTree, newRepo, randomBytes, tempDir, writeSampleTree } from "./helpers.ts";

/** `filesDone` of each event, consecutive repeats left out. */
function fileCounts(events: ProgressEvent[]): number[] {
  return events.map((e) => e.filesDone).filter((n, i, all) => i === 0 || n !== all[i - 1]);
}

Deno.test("a restore of 3 files reports each as it is complete (1, 2, 3, in order), with the plan's totals from its first event", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    for (const [name, size] of [["a.txt", 1000], ["b.bin", 300 << 10], ["c.txt", 10]] as const) {
      fs.writeFileSync(join(src, name), randomBytes(size, size));
    }
    const { id } = await backup(repo, { paths: [src] });
    const snap = await repo.snapshot(id!);
    const plan = await planRestore(repo, snap.id, snap.manifest.root);
    const events: ProgressEvent[] = [];
    const target = await tempDir();
    await executeRestore(repo, plan, { target, onProgress: (e) => events.push(e) });

    assert.deepEqual(fileCounts(events), [0, 1, 2, 3]);
    assert.deepEqual(
      [events[0].phase, events[0].filesTotal, events[0].bytesTotal],
      ["restore", 3, 1000 + (300 << 10) + 10],
    );
    assert.ok(events.every((e) => e.filesTotal === 3 && e.errors === 0));
    const names = events.filter((e) => e.filesDone > 0).map((e) => e.currentPath);
    const restored = join(target, src.split("/").pop()!);
    for (const name of ["a.txt", "b.bin", "c.txt"]) {
      assert.ok(names.includes(join(restored, name)), `${name} was never the current file`);
    }
    const last = events.at(-1)!;
    assert.ok(last.final && events.slice(0, -1).every((e) => !e.final));
    assert.deepEqual([last.filesDone, last.bytesDone], [3, last.bytesTotal]);
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].bytesDone >= events[i - 1].bytesDone, "bytes done went down");
    }
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a restore counts hard links and empty files, ending at the plan's file count", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src); // files that are a second name of another, and an empty one
    const { id } = await backup(repo, { paths: [src] });
    const snap = await repo.snapshot(id!);
    const plan = await planRestore(repo, snap.id, snap.manifest.root);
    const events: ProgressEvent[] = [];
    await executeRestore(repo, plan, {
      target: await tempDir(),
      onProgress: (e) => events.push(e),
    });
    assert.deepEqual(fileCounts(events), Array.from({ length: plan.files + 1 }, (_, i) => i));
    assert.equal(events.at(-1)!.filesDone, plan.files);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a backup reports the file it reads and counts the entries it cannot back up as errors; its last event has the snapshot's counts as totals", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    fs.writeFileSync(join(src, "one.txt"), "one\n");
    fs.writeFileSync(join(src, "two.bin"), randomBytes(200 << 10, 2));
    const fifo = new Deno.Command("mkfifo", { args: [join(src, "pipe")] }).outputSync();
    assert.ok(fifo.success, "mkfifo");
    const events: ProgressEvent[] = [];
    const warned: string[] = [];
    const result = await backup(repo, {
      paths: [src],
      onProgress: (e) => events.push(e),
      onWarning: (path) => warned.push(path),
    });

    assert.deepEqual(warned, [join(src, "pipe")]);
    const current = new Set(events.map((e) => e.currentPath).filter((p) => p !== undefined));
    assert.ok(
      current.has(join(src, "one.txt")) || current.has(join(src, "two.bin")),
      `current files: ${[...current].join(", ")}`,
    );
    assert.ok([...current].every((p) => p!.startsWith(`${src}/`)));
    const last = events.at(-1)!;
    assert.ok(last.final && events.slice(0, -1).every((e) => !e.final));
    const s = result.manifest.stats;
    assert.deepEqual(
      [last.phase, last.errors, last.filesDone, last.filesTotal, last.bytesDone, last.bytesTotal],
      ["backup", 1, 2, 2, s.bytes, s.bytes],
    );
    assert.equal(s.files, 2);
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].filesDone >= events[i - 1].filesDone, "files done went down");
      assert.ok(events[i].errors >= events[i - 1].errors, "errors went down");
    }
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a dry run reports progress as phase dry-run", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    fs.writeFileSync(join(src, "one.txt"), "one\n");
    const events: ProgressEvent[] = [];
    await backup(repo, { paths: [src], dryRun: true, onProgress: (e) => events.push(e) });
    assert.ok(events.length > 0 && events.every((e) => e.phase === "dry-run"));
    assert.deepEqual([events.at(-1)!.filesDone, events.at(-1)!.filesTotal], [1, 1]);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a progress listener that throws changes nothing: the restore completes, byte-exact, with the same result", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    for (let i = 0; i < 8; i++) fs.writeFileSync(join(src, `r${i}.bin`), randomBytes(100_000, i));
    const { id } = await backup(repo, { paths: [src] });
    const snap = await repo.snapshot(id!);
    const plan = await planRestore(repo, snap.id, snap.manifest.root);
    let calls = 0;
    const target = await tempDir();
    const result = await executeRestore(repo, plan, {
      target,
      onProgress: () => {
        calls++;
        throw new Error("the progress listener failed");
      },
    });
    assert.ok(calls > plan.files, `the listener was called ${calls} times`);
    assert.deepEqual([result.files, result.bytes], [plan.files, plan.bytes]);
    assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a progress listener that throws changes nothing: the backup completes with the same snapshot", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    let calls = 0;
    const result = await backup(repo, {
      paths: [src],
      onProgress: () => {
        calls++;
        throw new Error("the progress listener failed");
      },
    });
    assert.ok(calls > 0);
    const snap = await repo.snapshot(result.id!);
    const plan = await planRestore(repo, snap.id, snap.manifest.root);
    const target = await tempDir();
    await executeRestore(repo, plan, { target });
    assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
  } finally {
    await repo.storage.close();
  }
});
