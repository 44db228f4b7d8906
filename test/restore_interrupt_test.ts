/**
 * A restore stopped part-way, through the real CLI: by SIGINT or SIGTERM (its handler closes
 * the repository, removes the unfinished files and exits 130 or 143) and by SIGKILL (no
 * handler runs). Either way every file at its own name in the target is complete, with the
 * source's bytes, mode and mtime; anything else is a temporary file named as unfinished
 * (`<name>.permafrost-partial-<8 hex digits>`, after SIGKILL only); and running the same
 * restore again gives the whole tree (host/ops/restore.ts).
 *
 * Each signal is sent on an event, seen through a file-system watch: a file of a given kind
 * appearing at its own name in the target. The source's packs hold big files `a*.bin`, then
 * small files, then big files `z*.bin`, so when the first small file appears the first big
 * files are done and much is still being written; when the first big file appears, the other
 * big files are being written.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { cli, describeTree, newRepo, randomBytes, spawnCli, tempDir } from "./helpers.ts";

/** What a restore names a file it has not finished. */
const UNFINISHED = /\.permafrost-partial-[0-9a-f]{8}$/;

/**
 * One backed-up source for every test here: 1,000 small files between two sets of 6 files of
 * 1.5 MiB (about 24 chunks each, in 1 MiB packs), with their own modes and an old mtime, so a
 * restore takes long enough to be stopped part-way and a file stamped late shows.
 */
let backedUp: Promise<{ dir: string; src: string }> | undefined;

function source(): Promise<{ dir: string; src: string }> {
  backedUp ??= (async () => {
    const src = await tempDir();
    const old = new Date("2020-01-02T03:04:05.678Z");
    for (let i = 0; i < 1000; i++) {
      const p = join(src, `s${i.toString().padStart(4, "0")}.txt`);
      fs.writeFileSync(p, randomBytes(1024 + (i % 7) * 512, i + 1));
      fs.utimesSync(p, old, old);
    }
    for (let i = 0; i < 12; i++) {
      const p = join(src, `${i < 6 ? "a" : "z"}${i}.bin`);
      fs.writeFileSync(p, randomBytes(1536 << 10, 1000 + i));
      fs.chmodSync(p, 0o640);
      fs.utimesSync(p, old, old);
    }
    const { dir, repo, cacheDir } = await newRepo();
    try {
      await backup(repo, { paths: [src], cacheDir });
    } finally {
      await repo.storage.close();
    }
    return { dir, src };
  })();
  return backedUp;
}

/**
 * Starts `restore latest` of the source into a new target, and sends `signal` once a file whose
 * name matches `first` is at its own name there. Resolves the exit status, stderr, and the
 * source's folder in the target.
 */
async function restoreStoppedBy(signal: Deno.Signal, first: RegExp) {
  const { dir, src } = await source();
  const target = await tempDir();
  // Made beforehand so that it can be watched from the start (the restore keeps a folder there).
  const restored = join(target, basename(src));
  fs.mkdirSync(restored);
  const watcher = Deno.watchFs(restored, { recursive: false });
  const child = spawnCli(["restore", "latest", "--repo", dir, "--target", target]);
  const stderr = new Response(child.stderr).text();
  void new Response(child.stdout).text();
  try {
    for await (const event of watcher) {
      if (event.paths.some((p) => first.test(basename(p)))) break;
    }
  } finally {
    watcher.close();
  }
  child.kill(signal);
  return { status: await child.status, stderr: await stderr, restored, dir, src, target };
}

/**
 * Checks that every file at its own name in `restored` is the source's, bytes, mode and mtime;
 * returns the names of the others (unfinished) and how many were complete.
 */
function assertOnlyCompleteFiles(src: string, restored: string) {
  const want = describeTree(src), got = describeTree(restored);
  const unfinished: string[] = [];
  let complete = 0;
  for (const [path, description] of Object.entries(got)) {
    if (path === ".") continue; // the folder is stamped last
    if (UNFINISHED.test(path)) {
      unfinished.push(path);
      continue;
    }
    assert.equal(description, want[path], `"${path}" is at its own name, so it is complete`);
    complete++;
  }
  return { unfinished, complete };
}

/** Runs the same restore again, and checks that it gives the whole tree and nothing else. */
async function assertRerunCompletes(dir: string, src: string, target: string): Promise<void> {
  const again = await cli(["restore", "latest", "--repo", dir, "--target", target]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(describeTree(join(target, basename(src))), describeTree(src));
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`a restore stopped by ${signal} leaves only complete files, exits ${code}, and the same restore run again completes it`, async () => {
    const { status, stderr, restored, dir, src, target } = await restoreStoppedBy(
      signal,
      /^s\d+\.txt$/,
    );
    assert.equal(status.code, code, stderr);
    assert.match(stderr, new RegExp(`interrupted by ${signal}`));
    const { unfinished } = assertOnlyCompleteFiles(src, restored);
    assert.deepEqual(unfinished, [], "the unfinished files were removed");
    await assertRerunCompletes(dir, src, target);
  });
}

Deno.test("a restore killed with SIGKILL leaves complete files and files named unfinished, and the same restore run again completes it and removes them", async () => {
  const { status, restored, dir, src, target } = await restoreStoppedBy("SIGKILL", /^a\d\.bin$/);
  assert.equal(status.signal, "SIGKILL", "the restore was killed before it finished");
  const { unfinished, complete } = assertOnlyCompleteFiles(src, restored);
  assert.ok(complete > 0, "killed once a file was complete");
  assert.ok(
    unfinished.length > 0,
    "the big files being written are left under their temporary names",
  );
  await assertRerunCompletes(dir, src, target);
});

/**
 * A program that opens a storage (so SIGINT closes it and exits), draws a progress line as at
 * a terminal (host/cli/progress.ts), says "ready" on stdout, and waits.
 */
const progressDriver = `
import { OrderlyBackend } from "${new URL("../host/storage/orderly_close.ts", import.meta.url)}";
import { ProgressDisplay } from "${new URL("../host/cli/progress.ts", import.meta.url)}";
new OrderlyBackend({ call: () => new Promise(() => {}), close: () => Promise.resolve() }, "local:/r");
const enc = new TextEncoder();
new ProgressDisplay("restore", "line", {
  write: (text) => void Deno.stderr.writeSync(enc.encode(text)),
  width: () => 80,
  now: () => 0,
});
console.log("ready");
setInterval(() => {}, 1000);
`;

Deno.test("on SIGINT the progress line at the terminal is cleared before the message, and not drawn again", async () => {
  const program = join(await tempDir(), "driver.ts");
  fs.writeFileSync(program, progressDriver);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      program,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  child.kill("SIGINT");
  await reader.cancel();
  assert.equal((await child.status).code, 130);
  const text = await stderr;
  const line = "\r\x1b[Krestore 0:00  starting…";
  assert.ok(text.startsWith(line), JSON.stringify(text));
  assert.ok(
    text.endsWith(`${line}\r\x1b[Kpermafrost: interrupted by SIGINT; the repository was closed\n`),
    JSON.stringify(text),
  );
});
