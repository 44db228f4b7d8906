/**
 * The `sync` engine end to end through the CLI, on a local folder and on SQLite repositories
 * (docs/engines.md `sync`): each file one plain object under `mirror/<source>/`, create-only (a
 * changed file's new content beside the old, content-addressed), a readable manifest with the
 * tombstones of deleted files, restores that are byte-exact and refuse a tampered object, a
 * killed run that a rerun finishes, and bad options refused before anything is uploaded.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { openStorage } from "../host/storage/open.ts";
import { ForwardingStorage } from "../host/storage/forwarding.ts";
import { Repository } from "../host/repository/repository.ts";
import { executeSyncPrune, planSyncPrune } from "../host/ops/sync_prune.ts";
import { backup } from "../host/ops/backup.ts";
import { MirrorObjectsGone } from "../host/ops/mirror_sink.ts";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import type { ObjectInfo, VersionInfo } from "../host/storage/storage.ts";
import { CapabilityRefused } from "../plugins/sdk/errors.ts";
import {
  cli,
  describeTree,
  finishColdRestores,
  initColdRepo,
  PASSWORD,
  randomBytes,
  spawnCli,
  tempDir,
} from "./helpers.ts";

/** A repository of kind `kind` made through the CLI, with the environment to reach it. */
async function newSyncRepo(kind: "local" | "sqlite") {
  const dir = await tempDir();
  const location = kind === "local" ? join(dir, "repo") : `sqlite:${join(dir, "repo.db")}`;
  const env = {
    PERMAFROST_REPO: location,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(dir, "site");
  fs.mkdirSync(join(src, "img"), { recursive: true });
  fs.writeFileSync(join(src, "index.html"), "<h1>first</h1>");
  fs.writeFileSync(join(src, "img", "logo.png"), randomBytes(200_000, 3));
  fs.writeFileSync(join(src, "old.txt"), "to be deleted");
  return { dir, location, env, src };
}

/** The bytes of object `name` of the repository at `location`, read as a plain object. */
async function objectBytes(location: string, name: string): Promise<Uint8Array> {
  const storage = await openStorage(location, "admin");
  try {
    return await storage.read(name);
  } finally {
    await storage.close();
  }
}

async function objectNames(location: string, prefix: string): Promise<string[]> {
  const storage = await openStorage(location, "admin");
  try {
    return (await storage.list(prefix)).map((o) => o.name).sort();
  } finally {
    await storage.close();
  }
}

/** Backs up `src` with the sync engine; returns the snapshot id. */
async function syncBackup(env: Record<string, string>, src: string): Promise<string> {
  const out = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).snapshot;
}

async function restore(env: Record<string, string>, what: string): Promise<string> {
  const target = await tempDir();
  const out = await cli(["restore", what, "--target", target], env);
  assert.equal(out.code, 0, out.stderr);
  return target;
}

for (const kind of ["local", "sqlite"] as const) {
  Deno.test(`sync on ${kind}: files are plain objects, a changed file keeps its old bytes, a deleted one is a tombstone, and every snapshot restores byte for byte`, async () => {
    const { location, env, src } = await newSyncRepo(kind);
    const first = await syncBackup(env, src);
    const before = describeTree(src);
    assert.equal(
      new TextDecoder().decode(await objectBytes(location, "mirror/site/index.html")),
      "<h1>first</h1>",
    );
    assert.deepEqual(
      await objectBytes(location, "mirror/site/img/logo.png"),
      randomBytes(200_000, 3),
    );
    if (kind === "local") {
      // Readable without Permafrost: a plain file in the repository folder.
      const file = join(location, "mirror", "site", "index.html");
      assert.equal(fs.readFileSync(file, "utf8"), "<h1>first</h1>");
    }

    fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
    fs.rmSync(join(src, "old.txt"));
    const second = await syncBackup(env, src);
    const after = describeTree(src);

    // Create-only: the path key keeps the first bytes; the new ones are content-addressed.
    assert.equal(
      new TextDecoder().decode(await objectBytes(location, "mirror/site/index.html")),
      "<h1>first</h1>",
    );
    const versions = await objectNames(location, "mirror/site/.versions/");
    assert.equal(versions.length, 1);
    assert.equal(
      new TextDecoder().decode(await objectBytes(location, versions[0])),
      "<h1>second, longer</h1>",
    );
    // The readable manifest of the second snapshot names the deleted file as a tombstone.
    const manifests = await objectNames(location, "mirror/site/.permafrost/");
    assert.equal(manifests.length, 2);
    const manifest = JSON.parse(
      new TextDecoder().decode(await objectBytes(location, manifests[1])),
    );
    assert.equal(manifest.snapshot, second);
    assert.deepEqual(manifest.tombstones.map((t: { path: string }) => t.path), ["old.txt"]);
    assert.deepEqual(manifest.files.map((f: { path: string }) => f.path), [
      "img/logo.png",
      "index.html",
    ]);
    assert.equal(manifest.files[1].key, versions[0]);

    assert.deepEqual(describeTree(join(await restore(env, first), "site")), before);
    assert.deepEqual(describeTree(join(await restore(env, second), "site")), after);
    const subtree = await restore(env, `${first}:/site/img`);
    assert.deepEqual(
      fs.readFileSync(join(subtree, "img", "logo.png")),
      Buffer.from(randomBytes(200_000, 3)),
    );
    const one = await restore(env, `${first}:/site/old.txt`);
    assert.equal(fs.readFileSync(join(one, "old.txt"), "utf8"), "to be deleted");

    const ls = await cli(["ls", second], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /\/site\/img\/logo\.png/);
    assert.doesNotMatch(ls.stdout, /old\.txt/);
    const check = await cli(["check", "--read-data"], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
}

Deno.test("a mirrored object changed outside Permafrost makes restore fail non-zero naming the file, and check --read-data reports it", async () => {
  const { location, env, src } = await newSyncRepo("local");
  const id = await syncBackup(env, src);
  // Same size, other bytes: only the SHA-256 can tell.
  fs.writeFileSync(join(location, "mirror", "site", "index.html"), "<h1>FIRST</h1>");
  const target = await tempDir();
  const out = await cli(["restore", id, "--target", target], env);
  assert.notEqual(out.code, 0);
  assert.match(
    out.stderr,
    /index\.html" cannot be restored: its mirror object "mirror\/site\/index\.html" has SHA-256/,
  );
  assert.equal(fs.existsSync(join(target, "site", "index.html")), false);
  const check = await cli(["check", "--read-data"], env);
  assert.notEqual(check.code, 0);
  assert.match(check.stdout + check.stderr, /mirror object "mirror\/site\/index\.html".*SHA-256/);
});

Deno.test("a sync backup killed with SIGKILL while it uploads leaves no snapshot, and a rerun finishes and restores byte for byte", async () => {
  const { location, env, src } = await newSyncRepo("local");
  for (let i = 0; i < 200; i++) {
    fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(20_000, i + 10));
  }
  const mirror = join(location, "mirror");
  fs.mkdirSync(mirror);
  const watcher = Deno.watchFs(mirror, { recursive: true });
  const child = spawnCli(["backup", "--engine", "sync", src], env);
  const landing = (async () => {
    for await (const event of watcher) {
      if (event.paths.some((p) => p.endsWith(".bin"))) return true; // the first objects landed
    }
    return false;
  })();
  // Killed as soon as the first objects land; a run that ends first (or fails) is not killed.
  const landed = await Promise.race([landing, child.status.then(() => false)]);
  watcher.close();
  if (landed) child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();

  const again = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  const snaps = await cli(["snapshots", "--json"], env);
  const list = JSON.parse(snaps.stdout);
  assert.ok(list.length >= 1 && list.length <= 2, snaps.stdout); // the killed run may have ended
  // No object was written twice under a content address: the rerun reused what was there.
  assert.deepEqual(await objectNames(location, "mirror/site/.versions/"), []);
  assert.deepEqual(
    describeTree(join(await restore(env, JSON.parse(again.stdout).snapshot), "site")),
    describeTree(src),
  );
});

Deno.test("the sync engine refuses an unknown option, a class that is not a class, a bad encrypt, and versioned on a store without versions, before it uploads anything", async () => {
  const { location, env, src } = await newSyncRepo("local");
  const cases: [string, RegExp][] = [
    ["colour = 1", /engine "sync" takes only .*unknown key "colour"/],
    [
      '[[source.engine_config.storage_class]]\nclass = "FROZEN"',
      /"FROZEN" is not a storage class/,
    ],
    ['encrypt = "yes"', /"encrypt" must be true or false/],
    ["versioned = true", /keeps no versions \(versioning off\)/],
  ];
  for (const [options, expected] of cases) {
    const config = join(await tempDir(), "permafrost.toml");
    fs.writeFileSync(
      config,
      `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
        `[source.engine_config]\n${options}\n`,
    );
    const out = await cli(["backup", "--config", config], env);
    assert.notEqual(out.code, 0, options);
    assert.match(out.stderr, expected);
    assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");
  }
  assert.deepEqual(await objectNames(location, "mirror/"), []);
});

Deno.test("an ingest handle may create a mirror's objects but never replace a version of another object nor delete one", async () => {
  const { location } = await newSyncRepo("local");
  const ingest = await openStorage(location, "ingest");
  try {
    await ingest.create("mirror/site/a.txt", new TextEncoder().encode("a"));
    await assert.rejects(ingest.delete("mirror/site/a.txt"), CapabilityRefused);
    await assert.rejects(ingest.putVersion("config", new Uint8Array(1)), CapabilityRefused);
    await assert.rejects(ingest.deleteVersion("mirror/site/a.txt", "1"), CapabilityRefused);
    await assert.rejects(ingest.read("mirror/site/a.txt"), CapabilityRefused);
    assert.equal(await ingest.versioning(), "off");
  } finally {
    await ingest.close();
  }
});

Deno.test("a mirrored file in DEEP_ARCHIVE is thawed before a restore: the restore asks for it, exits 4, and --resume restores it byte for byte", async () => {
  const { dir, env } = await initColdRepo(3600);
  const src = join(await tempDir(), "media");
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, "film.mkv"), randomBytes(150_000, 9));
  fs.writeFileSync(join(src, "notes.txt"), "small stays STANDARD");
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "media"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[[source.engine_config.storage_class]]\nlarger_than = "100 KiB"\nclass = "DEEP_ARCHIVE"\n`,
  );
  const backed = await cli(["backup", "--config", config], env);
  assert.equal(backed.code, 0, backed.stderr);
  const estimate = await cli(["restore", "latest", "--target", await tempDir(), "--estimate"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.match(estimate.stdout, /restore requests, DEEP_ARCHIVE/);

  const target = await tempDir();
  const first = await cli(["restore", "latest", "--target", target, "--json", "--yes"], env);
  assert.equal(first.code, 4, first.stdout + first.stderr);
  assert.equal(fs.existsSync(join(target, "media", "film.mkv")), false);
  assert.equal(finishColdRestores(dir), 1);
  const { job } = JSON.parse(first.stdout);
  const done = await cli(["restore", "--resume", job], env);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(describeTree(join(target, "media")), describeTree(src));
});

Deno.test("backup --engine sync --estimate prices each new file as one PUT and its storage in its rule's class, and writes nothing", async () => {
  const { location, env, src } = await newSyncRepo("local");
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[[source.engine_config.storage_class]]\nlarger_than = "100 KiB"\nclass = "DEEP_ARCHIVE"\n`,
  );
  const out = await cli(["backup", "--config", config, "--estimate", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const objects = JSON.parse(out.stdout).sources[0].plan.objects as {
    kind: string;
    storage_class: string;
    objects: number;
  }[];
  const mirrored = objects.filter((o) => o.kind === "mirrored file (sync)");
  assert.deepEqual(
    mirrored.map((o) => [o.storage_class, o.objects]).sort(),
    [["DEEP_ARCHIVE", 1], ["STANDARD", 2]],
  );
  assert.deepEqual(await objectNames(location, "mirror/"), []);
});

Deno.test("sync prune deletes only the mirrored objects no snapshot names once forget dropped theirs, and an ingest key cannot prune", async () => {
  const { location, env, src } = await newSyncRepo("local");
  await syncBackup(env, src); // the first snapshot, forgotten below
  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  fs.rmSync(join(src, "old.txt"));
  const second = await syncBackup(env, src);
  const before = await objectNames(location, "mirror/site/");

  const key = join(await tempDir(), "ingest.key");
  const exported = await cli(["key", "ingest", "--out", key], env);
  assert.equal(exported.code, 0, exported.stderr);
  const refused = await cli(["sync", "prune", "--grace", "0", "--yes", "--key-file", key], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /sync prune needs the admin role/);

  // Both snapshots kept: nothing is unreferenced.
  const none = await cli(["sync", "prune", "--grace", "0", "--yes", "--json"], env);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(JSON.parse(none.stdout).result.deleted, 0);

  const forgot = await cli(["forget", "--keep-last", "1"], env); // the first snapshot
  assert.equal(forgot.code, 0, forgot.stderr);
  const estimate = await cli(["sync", "prune", "--grace", "0", "--estimate", "--json"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.deepEqual(
    JSON.parse(estimate.stdout).delete.map((c: { name: string }) => c.name).sort(),
    ["mirror/site/index.html", "mirror/site/old.txt"],
  );
  assert.deepEqual(
    await objectNames(location, "mirror/site/"),
    before,
    "--estimate deletes nothing",
  );
  const pruned = await cli(["sync", "prune", "--grace", "0", "--yes"], env);
  assert.equal(pruned.code, 0, pruned.stderr);
  const after = await objectNames(location, "mirror/site/");
  assert.deepEqual(
    before.filter((n) => !after.includes(n)).sort(),
    ["mirror/site/index.html", "mirror/site/old.txt"],
  );
  // The kept snapshot still restores byte for byte, and check finds nothing missing.
  assert.deepEqual(describeTree(join(await restore(env, second), "site")), describeTree(src));
  const check = await cli(["check", "--read-data"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

Deno.test("a file that became a folder and a folder that became a file are mirrored beside the old objects, and each snapshot restores byte for byte", async () => {
  const { env, src } = await newSyncRepo("local");
  const first = await syncBackup(env, src);
  const before = describeTree(src);
  fs.rmSync(join(src, "index.html"));
  fs.mkdirSync(join(src, "index.html"));
  fs.writeFileSync(join(src, "index.html", "inner.txt"), "now a folder");
  fs.rmSync(join(src, "img"), { recursive: true });
  fs.writeFileSync(join(src, "img"), "now a file");
  const second = await syncBackup(env, src);
  assert.deepEqual(describeTree(join(await restore(env, first), "site")), before);
  assert.deepEqual(describeTree(join(await restore(env, second), "site")), describeTree(src));
});

Deno.test("sync prune refuses to run while a snapshot manifest cannot be decoded, and deletes nothing that snapshot names", async () => {
  const { location, env, src } = await newSyncRepo("local");
  const first = await syncBackup(env, src);
  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  await syncBackup(env, src);
  // Only the first snapshot names the first content of index.html; its manifest is damaged.
  fs.writeFileSync(join(location, "snapshots", first), "damaged");
  const before = await objectNames(location, "mirror/");

  const pruned = await cli(["sync", "prune", "--grace", "0", "--yes"], env);
  assert.notEqual(pruned.code, 0);
  assert.match(pruned.stderr, /sync prune refuses to run: this object cannot be decoded/);
  assert.match(pruned.stderr, new RegExp(`snapshots/${first}`));
  assert.deepEqual(await objectNames(location, "mirror/"), before);
});

Deno.test("sync prune deletes a forgotten object of a user's folder named .permafrost below the source root: only the readable manifests are kept", async () => {
  const { location, env, src } = await newSyncRepo("local");
  fs.mkdirSync(join(src, "img", ".permafrost"));
  fs.writeFileSync(join(src, "img", ".permafrost", "notes.txt"), "first notes");
  await syncBackup(env, src);
  fs.writeFileSync(join(src, "img", ".permafrost", "notes.txt"), "second notes, longer");
  const second = await syncBackup(env, src);
  const forgot = await cli(["forget", "--keep-last", "1"], env);
  assert.equal(forgot.code, 0, forgot.stderr);

  const pruned = await cli(["sync", "prune", "--grace", "0", "--yes"], env);
  assert.equal(pruned.code, 0, pruned.stderr);
  const left = await objectNames(location, "mirror/site/");
  assert.ok(!left.includes("mirror/site/img/.permafrost/notes.txt"), left.join("\n"));
  assert.equal(left.filter((n) => n.startsWith("mirror/site/.permafrost/manifest-")).length, 2);
  assert.deepEqual(describeTree(join(await restore(env, second), "site")), describeTree(src));
});

/**
 * A versioned bucket as `sync prune` sees one: each object is the one, current version `v1` of
 * its key (as an object `create` wrote on a bucket with versioning enabled, `versioned = false`).
 */
class OneVersionEach extends ForwardingStorage {
  override versioning() {
    return Promise.resolve("enabled" as const);
  }
  override async listVersions(prefix: string): Promise<VersionInfo[]> {
    return (await this.inner.list(prefix)).map((o) => ({ ...o, version: "v1", latest: true }));
  }
  override deleteVersion(name: string): Promise<void> {
    return this.inner.delete(name);
  }
}

Deno.test("sync prune on a versioned bucket keeps the current version of a key that a snapshot committed between the plan and the deletions names without a version", async () => {
  const { location, env, src } = await newSyncRepo("local");
  const id = await syncBackup(env, src);
  const manifest = join(location, "snapshots", id);
  const bytes = fs.readFileSync(manifest);
  fs.rmSync(manifest); // forgotten: the plan deletes every file's object
  const before = await objectNames(location, "mirror/site/");
  const repo = await Repository.open(
    new OneVersionEach(await openStorage(location, "admin")),
    { passphrase: PASSWORD },
  );
  try {
    const options = {
      table: shippedPriceTable("us-east-1"),
      graceMs: 0,
      early: false,
      minimumDurations: false,
    };
    const plan = await planSyncPrune(repo, options);
    assert.equal(plan.delete.length, 3);
    fs.writeFileSync(manifest, bytes); // a backup commits a snapshot naming them meanwhile
    const result = await executeSyncPrune(repo, plan);
    assert.deepEqual(result, { deleted: 0, bytes: 0, keptForNewSnapshots: 3 });
  } finally {
    await repo.storage.close();
  }
  assert.deepEqual(await objectNames(location, "mirror/site/"), before);
});

Deno.test("a user's file or folder named .versions or .permafrost at the source root is mirrored content-addressed, never under the mirror's own names, and tombstones still follow the host's manifests", async () => {
  const { location, env, src } = await newSyncRepo("local");
  fs.writeFileSync(join(src, ".versions"), "a user's file named .versions");
  fs.mkdirSync(join(src, ".permafrost"));
  fs.writeFileSync(join(src, ".permafrost", "manifest-zzz.json"), '{"files": []}');
  const first = await syncBackup(env, src);
  const before = describeTree(src);
  const names = await objectNames(location, "mirror/site/");
  assert.ok(!names.includes("mirror/site/.versions"), names.join("\n"));
  assert.ok(!names.includes("mirror/site/.permafrost/manifest-zzz.json"), names.join("\n"));
  // An object an older version wrote there is no manifest either.
  const storage = await openStorage(location, "admin");
  try {
    await storage.create(
      "mirror/site/.permafrost/manifest-zzzz.json",
      new TextEncoder().encode('{"version": 1, "files": []}'),
    );
  } finally {
    await storage.close();
  }

  // A changed file goes to its content-addressed key; a deleted one is a tombstone.
  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  fs.rmSync(join(src, "old.txt"));
  const second = await syncBackup(env, src);
  const manifests = await objectNames(location, "mirror/site/.permafrost/manifest-2");
  assert.equal(manifests.length, 2);
  const manifest = JSON.parse(
    new TextDecoder().decode(await objectBytes(location, manifests[1])),
  );
  assert.equal(manifest.snapshot, second);
  assert.deepEqual(manifest.tombstones.map((t: { path: string }) => t.path), ["old.txt"]);
  for (const f of manifest.files as { path: string; key: string }[]) {
    if (f.path.startsWith(".")) assert.match(f.key, /^mirror\/site\/\.versions\/[0-9a-f]{64}$/);
  }
  assert.deepEqual(describeTree(join(await restore(env, first), "site")), before);
  assert.deepEqual(describeTree(join(await restore(env, second), "site")), describeTree(src));

  // Prune keeps only what the host wrote as manifests: the planted object is no snapshot's.
  const pruned = await cli(["sync", "prune", "--grace", "0", "--yes"], env);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.deepEqual(await objectNames(location, "mirror/site/.permafrost/"), manifests);
});

/**
 * A store where a concurrent `sync prune` deletes `victim` just before the backup lists its
 * source's mirror prefix the second time (its check before the commit).
 */
class PruneBehindTheBacksOf extends ForwardingStorage {
  #lists = 0;
  constructor(inner: ConstructorParameters<typeof ForwardingStorage>[0], readonly victim: string) {
    super(inner);
  }
  override async list(prefix: string): Promise<ObjectInfo[]> {
    if (prefix === "mirror/site/" && ++this.#lists === 2) await this.inner.delete(this.victim);
    return await this.inner.list(prefix);
  }
}

Deno.test("a sync backup that reused an object a concurrent prune deleted fails without committing, and a rerun uploads it again and restores byte for byte", async () => {
  const { location, env, src } = await newSyncRepo("local");
  await syncBackup(env, src);
  const snapshots = async () => JSON.parse((await cli(["snapshots", "--json"], env)).stdout);
  const manifests = await objectNames(location, "mirror/site/.permafrost/");
  const cacheDir = await tempDir();
  const repo = await Repository.open(
    new PruneBehindTheBacksOf(await openStorage(location, "admin"), "mirror/site/index.html"),
    { passphrase: PASSWORD },
  );
  try {
    // Every file is the same: each object is reused (its key holds the same bytes).
    await assert.rejects(
      backup(repo, { paths: [src], engine: "sync", cacheDir }),
      (err: Error) => {
        assert.ok(err instanceof MirrorObjectsGone, String(err));
        assert.match(err.message, /"mirror\/site\/index\.html".*run the backup again/);
        return true;
      },
    );
  } finally {
    await repo.storage.close();
  }
  assert.equal((await snapshots()).length, 1, "nothing was committed");
  assert.deepEqual(await objectNames(location, "mirror/site/.permafrost/"), manifests);

  const again = await syncBackup(env, src);
  assert.deepEqual(describeTree(join(await restore(env, again), "site")), describeTree(src));
});

Deno.test("a sync backup's summary counts the mirrored files it uploaded and reused, and the bytes it uploaded, in text and in --json", async () => {
  const { env, src } = await newSyncRepo("local");
  const first = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout).mirror, {
    files: 3,
    uploaded: 3,
    uploadedBytes: 14 + 200_000 + 13,
    reused: 0,
  });
  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  const second = await cli(["backup", "--engine", "sync", src], env);
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stdout,
    /\n {2}3 mirrored files: 1 uploaded \(23 B\), 2 already in the store\n/,
  );
});

Deno.test("backup --engine sync --estimate adds the early-deletion fee a later prune of the versions it replaces would owe, and says so", async () => {
  const { env, src } = await newSyncRepo("local");
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[[source.engine_config.storage_class]]\nlarger_than = "100 KiB"\nclass = "DEEP_ARCHIVE"\n`,
  );
  const first = await cli(["backup", "--config", config], env);
  assert.equal(first.code, 0, first.stderr);
  fs.writeFileSync(join(src, "img", "logo.png"), randomBytes(200_000, 4)); // replaced
  const out = await cli(["backup", "--config", config, "--estimate", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout).sources[0];
  assert.equal(report.plan.replaced_versions, 1);
  const fees = (report.items as { what: string; quantity: number }[]).filter((i) =>
    i.what.startsWith("a later sync prune of replaced DEEP_ARCHIVE versions: early deletion")
  );
  // 200,000 bytes written today: the whole 180-day minimum (6 months) is left.
  assert.deepEqual(fees.map((i) => i.quantity), [Math.round(200_000 / 2 ** 30 * 6 * 1e6) / 1e6]);
  assert.match(
    report.notes.join("\n"),
    /early-deletion fees a later `sync prune` of the 1 version/,
  );
  const text = await cli(["backup", "--config", config, "--estimate"], env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /note: the total includes \$[0-9.]+ of early-deletion fees/);
});

/** A config file that mirrors `src` sealed (`encrypt = true`). */
async function sealedConfig(src: string): Promise<string> {
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[source.engine_config]\nencrypt = true\n`,
  );
  return config;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => join(dir, p))
    .filter((p) => fs.statSync(p).isFile());
}

const SECRET = "permafrost-sealed-mirror-marker-7f3a";

Deno.test("sync with encrypt = true, backed up with an ingest key, stores no file's bytes or name, restores byte for byte with the passphrase, uploads an unchanged file once, and the ingest key cannot read it back", async () => {
  const { location, env, src } = await newSyncRepo("local");
  fs.writeFileSync(join(src, "secret-notes.txt"), `${SECRET}\n`.repeat(1000));
  fs.writeFileSync(join(src, "empty.txt"), "");
  const key = join(await tempDir(), "ingest.key");
  const exported = await cli(["key", "ingest", "--out", key], env);
  assert.equal(exported.code, 0, exported.stderr);
  const config = await sealedConfig(src);

  const first = await cli(["backup", "--config", config, "--key-file", key, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  const { snapshot, mirror } = JSON.parse(first.stdout).sources[0];
  assert.equal(mirror.uploaded, 5);

  // Neither bytes nor names: no object holds a known string, no key a file's name.
  for (const file of filesUnder(location)) {
    const text = fs.readFileSync(file, "latin1");
    assert.ok(!text.includes(SECRET) && !text.includes("<h1>first</h1>"), file);
  }
  const names = await objectNames(location, "mirror/");
  assert.equal(names.length, 5);
  for (const name of names) assert.match(name, /^mirror\/site\/\.sealed\/[0-9a-f]{64}$/);

  const target = await tempDir();
  const refused = await cli(["restore", snapshot, "--target", target, "--key-file", key], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /ingest \(put-only\) key/);

  assert.deepEqual(describeTree(join(await restore(env, snapshot), "site")), describeTree(src));
  const check = await cli(["check", "--read-data"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  const again = await cli(["backup", "--config", config, "--key-file", key, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).sources[0].mirror.uploaded, 0);
  assert.deepEqual(await objectNames(location, "mirror/"), names);
});

Deno.test("a sealed mirror object with a flipped byte, its last frame dropped, or two frames swapped makes restore and check --read-data fail naming the file", async () => {
  const { location, env, src } = await newSyncRepo("local");
  // Three frames: two full 4 MiB ones and a short last one.
  fs.writeFileSync(join(src, "big.bin"), randomBytes(9 * 2 ** 20, 41));
  const out = await cli(["backup", "--config", await sealedConfig(src), "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const { snapshot } = JSON.parse(out.stdout).sources[0];
  const names = await objectNames(location, "mirror/site/.sealed/");
  const big = names.map((n) => join(location, n)).find((p) => fs.statSync(p).size > 2 ** 20)!;
  const original = fs.readFileSync(big);
  const frame = 4 + 4 * 2 ** 20 + 28;
  const swapped = Buffer.concat([
    original.subarray(0, 88),
    original.subarray(88 + frame, 88 + 2 * frame),
    original.subarray(88, 88 + frame),
    original.subarray(88 + 2 * frame),
  ]);
  const flipped = Buffer.from(original);
  flipped[88 + frame + 1000] ^= 1;
  const cases: [string, Buffer, RegExp][] = [
    ["a flipped byte", flipped, /frame 1 does not authenticate/],
    ["the last frame dropped", original.subarray(0, 88 + 2 * frame), /holds \d+ bytes/],
    ["two frames swapped", swapped, /frame 0 does not authenticate/],
  ];
  for (const [what, bytes, expected] of cases) {
    fs.chmodSync(big, 0o644);
    fs.writeFileSync(big, bytes);
    const target = await tempDir();
    const restored = await cli(["restore", snapshot, "--target", target], env);
    assert.notEqual(restored.code, 0, what);
    assert.match(restored.stderr, /file "\/.*site\/big\.bin" cannot be restored/, what);
    assert.match(restored.stderr, expected, what);
    assert.equal(fs.existsSync(join(target, "site", "big.bin")), false, what);
    const check = await cli(["check", "--read-data"], env);
    assert.notEqual(check.code, 0, what);
    assert.match(check.stdout + check.stderr, /file "[^"]*big\.bin"/, what);
  }
  // A backup that finds the file's sealed name taken at another size refuses, naming it.
  fs.writeFileSync(big, original.subarray(0, 88 + 2 * frame));
  const rerun = await cli(["backup", "--config", await sealedConfig(src)], env);
  assert.notEqual(rerun.code, 0);
  assert.match(
    rerun.stderr,
    /big\.bin", sealed\) holds \d+ bytes, not \d+: it was changed outside/,
  );
  fs.writeFileSync(big, original);
  assert.deepEqual(describeTree(join(await restore(env, snapshot), "site")), describeTree(src));
});
