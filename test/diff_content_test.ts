/**
 * `diff --content` compares contents through the snapshot's engine: its `split` cuts each local
 * file as the backup did, and the host compares the keyed ids of the pieces. Without the engine,
 * it compares metadata only and says so.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, newRepo, randomBytes, tempDir } from "./helpers.ts";
import { backup } from "../host/ops/backup.ts";
import { diff } from "../host/ops/diff.ts";

Deno.test("diff --content finds a change that keeps size and mtime, through the dedup engine's split, and none in files cut into many chunks", async () => {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  const big = randomBytes(9 << 20, 3); // several FastCDC chunks at 256 KiB / 1 MiB / 4 MiB
  fs.writeFileSync(join(src, "big.bin"), big);
  fs.writeFileSync(join(src, "small.txt"), "small");
  fs.writeFileSync(join(src, "empty"), "");
  assert.equal((await cli(["backup", src], env)).code, 0);

  const same = await cli(["diff", "latest", src, "--content", "--json"], env);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.deepEqual(JSON.parse(same.stdout).changes, []);

  const st = fs.statSync(join(src, "big.bin"));
  big[5 << 20] ^= 1;
  fs.writeFileSync(join(src, "big.bin"), big);
  fs.utimesSync(join(src, "big.bin"), st.atime, st.mtime);
  assert.equal((await cli(["diff", "latest", src], env)).code, 0, "metadata alone sees nothing");
  const changed = await cli(["diff", "latest", src, "--content", "--json"], env);
  assert.equal(changed.code, 1, changed.stderr);
  assert.deepEqual(JSON.parse(changed.stdout), {
    snapshot: JSON.parse(changed.stdout).snapshot,
    changes: [{ path: join(src, "big.bin"), change: "modified", what: ["content"] }],
    notes: [],
  });
});

Deno.test("diff with content compares metadata only, with a note, when the snapshot's engine is not installed", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    fs.writeFileSync(join(src, "a.txt"), "before");
    const { manifest } = await backup(repo, { paths: [src] });
    const st = fs.statSync(join(src, "a.txt"));
    fs.writeFileSync(join(src, "a.txt"), "after!");
    fs.utimesSync(join(src, "a.txt"), st.atime, st.mtime);
    const notes: string[] = [];
    const onNote = (n: string) => void notes.push(n);
    const elsewhere = { ...manifest, engine: "worm-from-the-future" };
    assert.deepEqual(await diff(repo, elsewhere, src, { content: true, onNote }), []);
    assert.deepEqual(notes, [
      `the snapshot's engine "worm-from-the-future" is not installed: compared metadata only ` +
      "(type, size, mode, mtime, target), not contents",
    ]);
    const found = await diff(repo, manifest, src, { content: true, onNote });
    assert.deepEqual(found.map((c) => c.what), [["content"]]);
  } finally {
    await repo.storage.close();
  }
});
