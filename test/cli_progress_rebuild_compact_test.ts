/**
 * Progress of `rebuild` and `gc compact` through the real CLI (README "Progress"): with `--json`
 * they stream `{"type":"progress"}` lines on stderr as `backup` and `restore` do, counting the
 * packs they read and those packs' bytes, the last line final and complete; the launcher of an
 * in-region job shows these lines from the job's log (docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, randomBytes, tempDir } from "./helpers.ts";

const json = (s: string) => JSON.parse(s);

/** The `{"type":"progress"}` lines of a run's stderr, parsed. */
function progressLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => json(l))
    .filter((p) => p.type === "progress");
}

/** The last progress line of a run: final, of `phase`, with every pack to read read. */
function lastLine(stderr: string, phase: string): Record<string, unknown> {
  const lines = progressLines(stderr);
  assert.ok(lines.length >= 1, `no progress line in: ${stderr}`);
  assert.ok(lines.every((l) => l.phase === phase), stderr);
  const last = lines.at(-1)!;
  assert.equal(last.final, true, stderr);
  assert.equal(last.files_done, last.files_total);
  assert.equal(last.bytes_done, last.bytes_total);
  return last;
}

/** A local repository (1 MiB packs) with one file forgotten, so that packs hold dead bytes. */
async function setup() {
  const dir = join(await tempDir(), "repo");
  const env = {
    PERMAFROST_REPO: dir,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "gone.bin"), randomBytes(1_500_000, 1));
  fs.writeFileSync(join(src, "kept.bin"), randomBytes(300_000, 2));
  const run = async (...args: string[]) => {
    const r = await cli([...args, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
  };
  await run("backup", src);
  fs.rmSync(join(src, "gone.bin"));
  await run("backup", src);
  await run("forget", "--keep-last", "1");
  await run("gc", "mark");
  return { dir, env };
}

Deno.test("gc compact --json and rebuild --json stream progress lines on stderr counting the packs they read, ending final", async () => {
  const { dir, env } = await setup();

  const compact = await cli(["gc", "compact", "--all", "--yes", "--json"], env);
  assert.equal(compact.code, 0, compact.stderr);
  const { result, repack } = json(compact.stdout);
  assert.ok(result.copiedBlobs >= 1, compact.stdout);
  const compacted = lastLine(compact.stderr, "compact");
  assert.equal(compacted.files_total, repack.length);
  assert.equal(
    compacted.bytes_total,
    repack.reduce((sum: number, p: { bytes: number }) => sum + p.bytes, 0),
  );

  // The hot tier lost: rebuild reads the metadata packs again.
  for (const hot of ["index", "snapshots", "meta"]) fs.rmSync(join(dir, hot), { recursive: true });
  const rebuild = await cli(["rebuild", "--yes", "--json"], env);
  assert.equal(rebuild.code, 0, rebuild.stderr);
  const rebuilt = lastLine(rebuild.stderr, "rebuild");
  assert.equal(rebuilt.files_total, json(rebuild.stdout).restore.packs);
  assert.ok((rebuilt.bytes_total as number) > 0);
});
