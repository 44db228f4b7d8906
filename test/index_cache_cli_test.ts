import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, tempDir, writeSampleTree } from "./helpers.ts";

Deno.test("ls, find and restore keep the index in the cache folder, and rebuild a damaged one with a warning", async () => {
  const cache = await tempDir();
  const env = { PERMAFROST_REPO: join(await tempDir(), "repo"), PERMAFROST_CACHE_DIR: cache };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env)).code, 0);
  const src = await tempDir();
  writeSampleTree(src);
  const name = src.split("/").pop()!;
  const b = await cli(["backup", src, "--json"], env);
  assert.equal(b.code, 0, b.stderr);
  const [repoId] = fs.readdirSync(cache).filter((f) => /^[0-9a-f]{64}$/.test(f));
  const file = join(cache, repoId, "index.sqlite");
  assert.ok(fs.existsSync(file), "the backup wrote its segments to the index cache");

  const listed = await cli(["ls", "latest", `/${name}/docs`], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stderr, "");

  // Damaged: the header page overwritten. The next command says so, and answers the same.
  const bytes = fs.readFileSync(file);
  bytes.fill(0x5a, 0, 4096);
  fs.writeFileSync(file, bytes);
  for (const f of ["-wal", "-shm"]) fs.rmSync(file + f, { force: true });
  const again = await cli(["ls", "latest", `/${name}/docs`], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, listed.stdout);
  assert.match(again.stderr, new RegExp(`warning: "${file}" cannot be read .*built again`));

  const found = JSON.parse((await cli(["find", "script.sh", "--json"], env)).stdout);
  assert.deepEqual(found.map((h: { path: string }) => h.path), [`/${name}/docs/script.sh`]);
  const target = await tempDir();
  const r = await cli(["restore", `latest:/${name}/docs/script.sh`, "--target", target], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    fs.readFileSync(join(target, "script.sh")),
    fs.readFileSync(join(src, "docs", "script.sh")),
  );
});

Deno.test("ls still answers, with a warning, when a folder sits where the index cache file goes", async () => {
  const cache = await tempDir();
  const env = { PERMAFROST_REPO: join(await tempDir(), "repo"), PERMAFROST_CACHE_DIR: cache };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = await tempDir();
  writeSampleTree(src);
  const b = await cli(["backup", src, "--json"], env);
  assert.equal(b.code, 0, b.stderr);
  const [repoId] = fs.readdirSync(cache).filter((f) => /^[0-9a-f]{64}$/.test(f));
  const file = join(cache, repoId, "index.sqlite");
  const listed = await cli(["ls", "latest"], env);
  assert.equal(listed.code, 0, listed.stderr);

  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  fs.mkdirSync(join(file, "kept"), { recursive: true }); // a user's folder: never deleted
  const again = await cli(["ls", "latest"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, listed.stdout);
  assert.match(again.stderr, /index cache unusable .*the index is read into memory/);
  assert.ok(fs.existsSync(join(file, "kept")));
});
