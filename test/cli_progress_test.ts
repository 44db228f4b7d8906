/**
 * Progress through the real CLI: with `--json`, `backup` and `restore` (fresh and resumed)
 * stream JSON progress lines on stderr, the last one complete, while stdout stays the one result
 * document; without `--json` and away from a terminal they print no progress at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import {
  cli,
  finishColdRestores,
  initColdRepo,
  randomBytes,
  spawnCli,
  tempDir,
} from "./helpers.ts";

/** The `{"type":"progress"}` lines of a run's stderr, parsed; every other line is not JSON. */
function progressLines(stderr: string): Record<string, unknown>[] {
  const lines = stderr.split("\n").filter((l) => l.startsWith("{"));
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(parsed.every((p) => p.type === "progress"), stderr);
  return parsed;
}

/** Checks a run's progress lines: at least one, in order, the last one final and complete. */
function assertComplete(stderr: string, phase: string, files: number): void {
  const lines = progressLines(stderr);
  assert.ok(lines.length >= 1, `no progress line in: ${stderr}`);
  const last = lines.at(-1)!;
  assert.deepEqual(
    [last.phase, last.final, last.files_done, last.files_total, last.errors],
    [phase, true, files, files, 0],
  );
  assert.equal(last.bytes_done, last.bytes_total);
  assert.equal(typeof last.elapsed_s, "number");
  for (const l of lines) {
    assert.deepEqual(
      Object.keys(l),
      [
        "type",
        "phase",
        "files_done",
        "files_total",
        "bytes_done",
        "bytes_total",
        "errors",
        "elapsed_s",
        "current",
        "final",
      ],
    );
  }
}

async function sourceOf(files: number): Promise<string> {
  const src = await tempDir();
  for (let i = 0; i < files; i++) {
    fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(20_000 + i, i + 1));
  }
  return src;
}

Deno.test("backup --json and restore --json stream JSON progress lines on stderr ending with every file done, and print one result document on stdout", async () => {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await sourceOf(5);

  const backedUp = await cli(["backup", src, "--json"], env);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  assert.equal(JSON.parse(backedUp.stdout).stats.files, 5);
  assertComplete(backedUp.stderr, "backup", 5);

  const dry = await cli(["backup", src, "--json", "--dry-run"], env);
  assert.equal(dry.code, 0, dry.stderr);
  assertComplete(dry.stderr, "dry-run", 5);

  const target = await tempDir();
  const restored = await cli(["restore", "latest", "--target", target, "--json"], env);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(JSON.parse(restored.stdout).files, 5);
  assertComplete(restored.stderr, "restore", 5);
});

Deno.test("restore --resume --json streams progress once the packs are readable; without --json nothing is drawn off a terminal", async () => {
  const { dir, env } = await initColdRepo(3600);
  const src = await sourceOf(3);
  const backedUp = await cli(["backup", src], env);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  assert.ok(!backedUp.stderr.includes("\r"), "a progress line was drawn away from a terminal");
  assert.deepEqual(progressLines(backedUp.stderr), []);

  const target = await tempDir();
  const requested = await cli(["restore", "latest", "--target", target, "--json", "--yes"], env);
  assert.equal(requested.code, 4, requested.stderr);
  const { job } = JSON.parse(requested.stdout);
  assert.deepEqual(progressLines(requested.stderr), [], "nothing is written while packs thaw");

  assert.ok(finishColdRestores(dir) > 0);
  const resumed = await cli(["restore", "--resume", job, "--json", "--yes"], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).target, target);
  assertComplete(resumed.stderr, "restore", 3);
});

/** Runs the CLI with nothing reading its stderr (a pipe whose reader left): status and stdout. */
async function withStderrClosed(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  const child = spawnCli(args, env);
  await child.stderr.cancel(); // closes the pipe's reading end: the CLI's writes fail (EPIPE)
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

Deno.test("backup --json and restore --json whose stderr nobody reads (a closed pipe) still succeed, with their result on stdout", async () => {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await sourceOf(3);

  const backedUp = await withStderrClosed(["backup", src, "--json"], env);
  assert.equal(backedUp.code, 0);
  assert.equal(JSON.parse(backedUp.stdout).stats.files, 3);

  const target = await tempDir();
  const restored = await withStderrClosed(["restore", "latest", "--target", target, "--json"], env);
  assert.equal(restored.code, 0);
  assert.equal(JSON.parse(restored.stdout).files, 3);
  for (let i = 0; i < 3; i++) {
    const name = `f${i}.bin`;
    assert.deepEqual(
      fs.readFileSync(join(target, src.split("/").pop()!, name)),
      fs.readFileSync(join(src, name)),
    );
  }
});
