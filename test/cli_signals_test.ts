/**
 * SIGINT and SIGTERM through the real CLI (host/storage/orderly_close.ts): `serve` stops as it
 * did before storage closed in order on signals (exit 0, no "interrupted"), and a `backup
 * --dry-run` into a default repository that does not exist yet, stopped while it compares with
 * its scratch repository, leaves no scratch folder behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { initColdRepo, randomBytes, spawnCli, tempDir } from "./helpers.ts";

/**
 * Reads `child`'s stdout until it has printed a line matching `pattern`, then drains the rest;
 * resolves the text so far.
 */
async function printed(child: Deno.ChildProcess, pattern: RegExp): Promise<string> {
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the command ended before printing ${pattern}: ${text}`);
    text += value;
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return text;
}

/** The exit status of `child` and what it wrote to stderr. */
async function ended(child: Deno.ChildProcess) {
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  return { code: status.code, stderr };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`serve stopped by ${signal} shuts down and exits 0`, async () => {
    const { env } = await initColdRepo(1);
    const child = spawnCli(["serve"], env);
    await printed(child, /^open http:\/\/\S+\n/m);
    child.kill(signal);
    const { code, stderr } = await ended(child);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /interrupted/);
  });
}

Deno.test("a backup --dry-run stopped by SIGINT while it compares with a scratch repository leaves no scratch folder", async () => {
  const home = await tempDir();
  const scratch = await tempDir();
  const src = await tempDir();
  for (let i = 0; i < 24; i++) {
    fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20, i + 1));
  }
  const watcher = Deno.watchFs(scratch);
  const child = spawnCli(["backup", src, "--dry-run"], {
    PERMAFROST_REPO: "",
    XDG_DATA_HOME: home,
    TMPDIR: scratch,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  });
  try {
    // The scratch repository's config is written once its storage is open.
    for await (const event of watcher) {
      if (event.paths.some((p) => p.endsWith("/config"))) break;
    }
  } finally {
    watcher.close();
  }
  child.kill("SIGINT");
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 130, stderr);
  assert.match(stderr, /interrupted by SIGINT/);
  assert.deepEqual(fs.readdirSync(scratch), [], `no scratch repository is left behind: ${stderr}`);
  assert.deepEqual(fs.readdirSync(home), [], "no default repository was created");
});
