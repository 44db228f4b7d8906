import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import {
  cli,
  newRepo,
  PASSWORD,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

/** Backs up a sample tree and returns the repository folder and the pack holding `big/random.bin`. */
async function backedUp() {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  const result = await backup(repo, { paths: [src], cacheDir });
  await repo.loadIndex();
  await repo.storage.close();
  return { src, dir, result, cacheDir };
}

function packFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else out.push(join(p, e.name));
    }
  };
  walk(join(dir, "packs"));
  return out;
}

Deno.test("a corrupted pack fails restore naming the pack, and check --read-data reports it", async () => {
  const { dir } = await backedUp();
  const files = packFiles(dir).filter((f) => fs.statSync(f).size > 300_000);
  const victim = files[0];
  const bytes = fs.readFileSync(victim);
  bytes[200] ^= 0xff; // inside the first frame, past the header
  fs.chmodSync(victim, 0o644);
  fs.writeFileSync(victim, bytes);
  const id = victim.split("/").pop()!;
  await assert.rejects(restoreLatest(dir, await tempDir()), new RegExp(`pack "${id}"`));

  const repo = await reopen(dir);
  const structural = await check(repo);
  assert.equal(structural.problems.length, 0, "same size: only reading finds it");
  const full = await check(repo, { readData: true });
  await repo.storage.close();
  assert.ok(full.problems.some((p) => p.pack === id), JSON.stringify(full.problems));
});

Deno.test("a truncated pack and a missing pack are reported by check", async () => {
  const { dir } = await backedUp();
  const [a, b] = packFiles(dir);
  fs.chmodSync(a, 0o644);
  fs.truncateSync(a, 1000);
  fs.rmSync(b);
  const repo = await reopen(dir);
  const result = await check(repo);
  await repo.storage.close();
  const ids = result.problems.map((p) => p.pack);
  assert.ok(ids.includes(a.split("/").pop()), "truncated");
  assert.ok(
    result.problems.some((p) => p.pack === b.split("/").pop() && /missing/.test(p.message)),
  );
});

Deno.test("a restore into a folder that cannot be written says so", {
  ignore: Deno.uid() === 0, // root writes anywhere; the file-as-target case below runs as root
}, async () => {
  const { dir } = await backedUp();
  const target = await tempDir();
  fs.chmodSync(target, 0o500);
  await assert.rejects(restoreLatest(dir, join(target, "x")), /is not writable/);
});

Deno.test("a restore whose target is a file, or inside one, says it is not a folder", async () => {
  const { dir } = await backedUp();
  const file = join(await tempDir(), "file");
  fs.writeFileSync(file, "x");
  await assert.rejects(
    restoreLatest(dir, file),
    Deno.errors.AlreadyExists,
    `target "${file}" is a file, not a folder: give --target a folder, new or existing`,
  );
  await assert.rejects(
    restoreLatest(dir, join(file, "sub")),
    Deno.errors.AlreadyExists,
    `target "${join(file, "sub")}" is inside a file, not a folder`,
  );
});

Deno.test("two backups into one repository at once both commit valid snapshots", async () => {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  const a = await tempDir(), b = await tempDir();
  writeSampleTree(a);
  fs.writeFileSync(join(b, "other.bin"), randomBytes(900_000, 3));
  const ra = await reopen(dir), rb = await reopen(dir);
  const [x, y] = await Promise.all([
    backup(ra, { paths: [a], cacheDir: await tempDir() }),
    backup(rb, { paths: [b], cacheDir: await tempDir() }),
  ]);
  await ra.storage.close();
  await rb.storage.close();
  assert.notEqual(x.id, y.id);
  const repo2 = await reopen(dir);
  assert.equal((await repo2.snapshots()).length, 2);
  assert.deepEqual((await check(repo2, { readData: true })).problems, []);
  await repo2.storage.close();
});

Deno.test("a backup killed midway leaves no snapshot, and a rerun completes reusing what was stored", async () => {
  const repoDir = join(await tempDir(), "repo");
  const cache = await tempDir();
  const env = { PERMAFROST_CACHE_DIR: cache, PERMAFROST_REPO: repoDir };
  const init = await cli(["init", "--pack-size", "1MiB", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  for (let i = 0; i < 40; i++) {
    fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20, i + 1));
  }

  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL("../host/cli/main.ts", import.meta.url).pathname,
      "backup",
      src,
    ],
    env: { ...env, PERMAFROST_PASSWORD: PASSWORD },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const indexDir = join(repoDir, "index");
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (fs.existsSync(indexDir) && fs.readdirSync(indexDir).length >= 5) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
  await child.status;
  assert.ok(fs.readdirSync(indexDir).length >= 5, "the backup got going before it was killed");
  assert.ok(
    !fs.existsSync(join(repoDir, "snapshots")) ||
      fs.readdirSync(join(repoDir, "snapshots")).length === 0,
  );

  const rerun = await cli(["backup", src, "--json"], env);
  assert.equal(rerun.code, 0, rerun.stderr);
  const out = JSON.parse(rerun.stdout);
  assert.ok(out.upload.knownBlobs >= 4, `reused ${out.upload.knownBlobs} stored blobs`);
  const target = await tempDir();
  const restored = await cli(["restore", "latest", "--target", target], env);
  assert.equal(restored.code, 0, restored.stderr);
  const name = src.split("/").pop()!;
  for (let i = 0; i < 40; i++) {
    assert.deepEqual(
      fs.readFileSync(join(target, name, `f${i}.bin`)),
      fs.readFileSync(join(src, `f${i}.bin`)),
    );
  }
  const checked = await cli(["check", "--read-data"], env);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
});
