import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../crypto/hash.ts";
import { newConfig } from "../repository/config.ts";
import { wrapKeyFile, wrapKeyFileV1 } from "../repository/keyfile.ts";
import { generateMasterKeys } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import { backup } from "./backup.ts";
import { check } from "./check.ts";
import { checkKeyBindings } from "./check_keys.ts";
import { newRepo, PASSWORD, reopen, tempDir, TEST_KDF } from "../../test/helpers.ts";

const LOSER = "the loser's passphrase";

async function source(): Promise<string> {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "some data\n");
  return src;
}

Deno.test("check reports a version 2 key object of another repository, naming both", async () => {
  const { dir, repo } = await newRepo();
  const other = newConfig().id;
  const bytes = await wrapKeyFile(await generateMasterKeys(), LOSER, other, TEST_KDF);
  const name = layout.key(sha256Hex(bytes));
  await repo.storage.create(name, bytes);
  await repo.storage.close();

  const owner = await reopen(dir);
  try {
    const { problems } = await check(owner);
    const about = problems.filter((p) => p.message.includes(`"${name}"`));
    assert.equal(about.length, 1, JSON.stringify(problems));
    assert.match(
      about[0].message,
      new RegExp(
        `belongs to another repository \\("${other.slice(0, 8)}"\\), not this one ` +
          `\\("${owner.config.id.slice(0, 8)}"\\)[^]*delete it`,
      ),
    );
  } finally {
    await owner.storage.close();
  }
});

Deno.test("check reports nothing about a repository's own key objects, of either version", async () => {
  const { dir, repo } = await newRepo();
  // A second passphrase for the same keys, as version 1 wrote it.
  const v1 = await wrapKeyFileV1(repo.keys, "second", TEST_KDF);
  await repo.storage.create(layout.key(sha256Hex(v1)), v1);
  await backup(repo, { paths: [await source()] });
  await repo.storage.close();
  const owner = await reopen(dir);
  try {
    await owner.loadIndex();
    assert.deepEqual(await checkKeyBindings(owner, (await owner.snapshots()).length), []);
  } finally {
    await owner.storage.close();
  }
});

Deno.test("a key set that decodes none of the index segments is reported with the key object that opened it", async () => {
  const { dir, repo } = await newRepo();
  await backup(repo, { paths: [await source()] });
  // What an older init that lost a race left: a version 1 key object with another key set.
  const leftover = await wrapKeyFileV1(await generateMasterKeys(), LOSER, TEST_KDF);
  const name = layout.key(sha256Hex(leftover));
  await repo.storage.create(name, leftover);
  await repo.storage.close();

  const loser = await reopen(dir, { passphrase: LOSER });
  try {
    assert.equal(loser.keyObject, name);
    await loser.loadIndex();
    const problems = await checkKeyBindings(loser, (await loser.snapshots()).length);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(
      problems[0].message,
      new RegExp(
        `^the key set opened from the key object "${name}" decodes none of the repository's \\d+ ` +
          `index segments, nor any snapshot manifest: it may not be the key set the repository ` +
          `was written with[^]*delete "${name}"; never delete the only key object`,
      ),
    );
    // Its backup writes what only it can read; the owner's check then points at the leftover.
    await backup(loser, { paths: [await source()] });
  } finally {
    await loser.storage.close();
  }
  const owner = await reopen(dir, { passphrase: PASSWORD });
  try {
    await owner.loadIndex();
    const problems = await checkKeyBindings(owner, (await owner.snapshots()).length);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(
      problems[0].message,
      new RegExp(
        `^\\d+ index segments do not decode[^]*other version 1 key objects \\("${name}"\\)`,
      ),
    );
  } finally {
    await owner.storage.close();
  }
});

Deno.test("check does not blame the owner's only key object when every index segment is damaged but the manifests decode", async () => {
  const { dir, repo } = await newRepo();
  await backup(repo, { paths: [await source()] });
  await repo.storage.close();
  // Bit rot in every segment (a repository after `gc index` has just one).
  for (const name of fs.readdirSync(join(dir, "index"))) {
    const path = join(dir, "index", name);
    const bytes = fs.readFileSync(path);
    bytes[bytes.length >> 1] ^= 1;
    fs.chmodSync(path, 0o644);
    fs.writeFileSync(path, bytes);
  }
  const owner = await reopen(dir);
  try {
    const { problems } = await check(owner);
    assert.ok(problems.some((p) => /cannot be decoded/.test(p.message)), "the damage is reported");
    const blamed = problems.filter((p) => p.message.includes(`"${owner.keyObject}"`));
    assert.deepEqual(blamed, [], "the key object that opened the repository is not blamed");
  } finally {
    await owner.storage.close();
  }
});
