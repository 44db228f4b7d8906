/**
 * When a restore makes symlinks (`restore.ts`): with the directories, before any file contents,
 * so that a restore which stops part-way has made every symlink, each complete (target and
 * mtime), and leaves no half-written file.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "./backup.ts";
import {
  describeTree,
  newRepo,
  reopen,
  restoreLatest,
  tempDir,
  writeSampleTree,
} from "../../test/helpers.ts";

Deno.test("a restore that stops on a missing pack has made every symlink, stamped, and no file half-written", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  try {
    await backup(repo, { paths: [src], cacheDir });
  } finally {
    await repo.storage.close();
  }
  // Every data pack gone: no file with contents can be restored; symlinks need no pack.
  const check = await reopen(dir);
  await check.loadIndex();
  const dataPacks = [...check.index.packs()].filter((p) => !p.metadata).map((p) => p.id);
  await check.storage.close();
  assert.ok(dataPacks.length > 0);
  for (const id of dataPacks) fs.rmSync(join(dir, "packs", id.slice(0, 2), id));

  const target = await tempDir();
  await assert.rejects(restoreLatest(dir, target), /no other copy/);

  const want = describeTree(src);
  const got = describeTree(join(target, fs.readdirSync(target)[0]));
  for (const name of ["link-to-hello", "dangling"]) assert.equal(got[name], want[name], name);
  const files = Object.entries(got).filter(([, d]) => d.startsWith("file "));
  for (const [rel, d] of files) {
    // Only the empty file is complete without a pack.
    assert.equal(rel, "empty", `"${rel}" (${d}) should not be in the target`);
  }
});
