import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { executeRestore } from "../host/ops/restore.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import {
  newRepo,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

async function sample() {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  return { src, dir, name: src.split("/").pop()! };
}

Deno.test("restore over an existing folder replaces files whole and never writes through a symlink", async () => {
  const { src, dir, name } = await sample();
  const target = await tempDir();
  const outside = await tempDir();
  fs.mkdirSync(join(target, name, "docs"), { recursive: true });
  fs.writeFileSync(join(target, name, "hello.txt"), "old content that is longer than the new one");
  fs.writeFileSync(join(outside, "victim.md"), "must stay");
  fs.symlinkSync(join(outside, "victim.md"), join(target, name, "docs", "readme.md"));
  fs.writeFileSync(join(target, name, "unrelated.txt"), "kept");
  await restoreLatest(dir, target);
  assert.equal(fs.readFileSync(join(target, name, "hello.txt"), "utf8"), "hello, world\n");
  assert.ok(!fs.lstatSync(join(target, name, "docs/readme.md")).isSymbolicLink());
  assert.deepEqual(
    fs.readFileSync(join(target, name, "docs/readme.md")),
    fs.readFileSync(join(src, "docs/readme.md")),
  );
  assert.equal(fs.readFileSync(join(outside, "victim.md"), "utf8"), "must stay");
  assert.equal(fs.readFileSync(join(target, name, "unrelated.txt"), "utf8"), "kept");
  assert.deepEqual(
    fs.readdirSync(join(target, name)).filter((n) => n.includes(".permafrost-")),
    [],
  );
});

Deno.test("restore refuses a directory in the way of a file, before writing anything", async () => {
  const { dir, name } = await sample();
  const target = await tempDir();
  fs.mkdirSync(join(target, name, "hello.txt", "precious"), { recursive: true });
  fs.writeFileSync(join(target, name, "hello.txt", "precious", "data"), "mine");
  await assert.rejects(restoreLatest(dir, target), /in the way.*hello\.txt.*Nothing was written/s);
  assert.equal(
    fs.readFileSync(join(target, name, "hello.txt", "precious", "data"), "utf8"),
    "mine",
  );
  assert.deepEqual(fs.readdirSync(join(target, name)), ["hello.txt"]);
});

Deno.test("a restore stopped by a damaged pack keeps existing files and leaves no half-written file", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "big.bin"), randomBytes(3_000_000, 5));
  const { dir, repo, cacheDir } = await newRepo();
  await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  const name = src.split("/").pop()!;
  // damage the last data pack (the file spans several)
  const packs: string[] = [];
  const walk = (p: string) =>
    fs.readdirSync(p, { withFileTypes: true }).forEach((e) =>
      e.isDirectory() ? walk(join(p, e.name)) : packs.push(join(p, e.name))
    );
  walk(join(dir, "packs"));
  const victim = packs.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const bytes = fs.readFileSync(victim);
  bytes[bytes.length - 2000] ^= 1;
  fs.chmodSync(victim, 0o644);
  fs.writeFileSync(victim, bytes);

  const fresh = await tempDir();
  await assert.rejects(restoreLatest(dir, fresh), /damaged.*nothing half-written/s);
  assert.ok(!fs.existsSync(join(fresh, name, "big.bin")), "no zero-filled big.bin");

  const existing = await tempDir();
  fs.mkdirSync(join(existing, name));
  fs.writeFileSync(join(existing, name, "big.bin"), "previous version");
  await assert.rejects(restoreLatest(dir, existing));
  assert.equal(fs.readFileSync(join(existing, name, "big.bin"), "utf8"), "previous version");
  assert.deepEqual(fs.readdirSync(join(existing, name)), ["big.bin"]);
});

Deno.test("junk under keys/, index/ and snapshots/ is skipped with a warning, and check reports it", async () => {
  const { dir } = await sample();
  const owner = await reopen(dir);
  const keyFile = encodeKeyExport(toIngestKeys(owner.keys), owner.config.id);
  await owner.storage.close();
  // a compromised ingest client (or bit rot) plants objects that do not decode; ingest may not
  // create key objects at all, so that one comes from bit rot (written with admin rights)
  const ingest = await reopen(dir, { keyFile }, "ingest");
  await assert.rejects(
    ingest.storage.create(`keys/${"1".padStart(64, "0")}`, new Uint8Array(1)),
    /ingest role cannot create/,
  );
  await assert.rejects(
    ingest.storage.create("config", new Uint8Array(1)),
    /ingest role cannot create/,
  );
  const admin = await reopen(dir);
  await admin.storage.create(`keys/${"1".padStart(64, "0")}`, new TextEncoder().encode("junk"));
  await admin.storage.close();
  const junk = (prefix: string, n: number) =>
    ingest.storage.create(
      `${prefix}${n.toString(16).padStart(64, "0")}`,
      new TextEncoder().encode("junk"),
    );
  await junk("index/", 2);
  await junk("snapshots/", 3);
  await ingest.storage.close();
  fs.writeFileSync(join(dir, "index", ".DS_Store"), "x");

  const repo = await reopen(dir);
  assert.equal((await repo.snapshots()).length, 1);
  const target = await tempDir();
  const snap = await repo.snapshot("latest");
  await repo.loadIndex();
  await executeRestore(repo, await planRestore(repo, snap.id, snap.manifest.root), { target });
  const result = await check(repo);
  await repo.storage.close();
  assert.equal(result.problems.length, 4, JSON.stringify(result.problems));
  for (const p of ["keys/", "index/", "snapshots/", ".DS_Store"]) {
    assert.ok(result.problems.some((x) => x.message.includes(p)), p);
  }
});

Deno.test("a dry run leaves the repository's index as it was, so a real backup after it is complete", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  const dry = await backup(repo, { paths: [src], cacheDir, dryRun: true });
  assert.equal(dry.id, undefined);
  assert.ok(dry.upload.newBlobs > 0);
  assert.equal(fs.readdirSync(dir).includes("snapshots"), false, "nothing written");
  const real = await backup(repo, { paths: [src], cacheDir });
  assert.equal(real.upload.newBlobs, dry.upload.newBlobs, "the real run stores everything");
  await repo.storage.close();
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(
    fs.readdirSync(join(target, src.split("/").pop()!)).length,
    fs.readdirSync(src).length,
  );
});

Deno.test("with every hot copy of the metadata packs gone, restore reads the cold copies", async () => {
  const { src, dir, name } = await sample();
  fs.rmSync(join(dir, "meta"), { recursive: true, force: true });
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(
    fs.readFileSync(join(target, name, "docs/readme.md")),
    fs.readFileSync(join(src, "docs/readme.md")),
  );
});

Deno.test("an unusable file cache is a warning: the backup reads everything and commits", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "a");
  const { repo, cacheDir } = await newRepo();
  fs.mkdirSync(join(cacheDir, repo.config.id), { recursive: true });
  fs.writeFileSync(
    join(cacheDir, repo.config.id, "files.sqlite"),
    "this is not a database ".repeat(100),
  );
  const warnings: string[] = [];
  const result = await backup(repo, {
    paths: [src],
    cacheDir,
    onWarning: (p, r) => warnings.push(`${p}: ${r}`),
  });
  await repo.storage.close();
  assert.ok(result.id);
  assert.ok(warnings.some((w) => /file cache/.test(w)), warnings.join("\n"));
});
