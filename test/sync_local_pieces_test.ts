/**
 * The `sync` engine on a local folder repository, which now takes objects in pieces
 * (docs/engines.md `sync`, "Large files"): a file larger than the sink reads whole goes up in
 * pieces through the real local store, lands as a plain object byte for byte, leaves nothing in
 * the store's `tmp/`, and restores.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { openStorage } from "../host/storage/open.ts";
import { MIRROR_WHOLE_BYTES } from "../host/ops/mirror_sink.ts";
import { cli, randomBytes, tempDir } from "./helpers.ts";

Deno.test("sync on a local folder stores a file larger than it reads whole in pieces, as a plain object with nothing left in tmp/, and restores it", async () => {
  const dir = await tempDir();
  const repo = join(dir, "repo");
  const env = {
    PERMAFROST_REPO: repo,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = join(dir, "site");
  fs.mkdirSync(src);
  const big = randomBytes(MIRROR_WHOLE_BYTES + 5_000_001, 7); // two pieces and a part of one
  fs.writeFileSync(join(src, "big.bin"), big);
  const out = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  assert.doesNotMatch(out.stderr, /warning|skipped|not backed up/i);

  const storage = await openStorage(repo, "admin");
  try {
    assert.deepEqual(await storage.read("mirror/site/big.bin"), big);
  } finally {
    await storage.close();
  }
  assert.deepEqual(fs.readdirSync(join(repo, "tmp")), []);
  const target = await tempDir();
  const restored = await cli(["restore", JSON.parse(out.stdout).snapshot, "--target", target], env);
  assert.equal(restored.code, 0, restored.stderr);
  const [file] = fs.readdirSync(target, { recursive: true })
    .map(String).filter((p) => p.endsWith("big.bin"));
  assert.deepEqual(new Uint8Array(fs.readFileSync(join(target, file))), big);
});
