import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, describeTree, tempDir, writeSampleTree } from "./helpers.ts";

async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  writeSampleTree(src);
  return { repo, env, src, name: src.split("/").pop()! };
}

Deno.test("the CLI backs up, lists, finds, diffs and restores a folder", async () => {
  const { env, src, name } = await setup();
  const b = await cli(["backup", src, "--tag", "first", "--json"], env);
  assert.equal(b.code, 0, b.stderr);
  const id = JSON.parse(b.stdout).snapshot as string;

  const snaps = JSON.parse((await cli(["snapshots", "--json"], env)).stdout);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0].id, id);
  assert.deepEqual(snaps[0].tags, ["first"]);

  const listed = await cli(["ls", id.slice(0, 8), `/${name}/docs`], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /-rwxr-xr-x .* \/.*\/docs\/script\.sh/);

  const found = JSON.parse((await cli(["find", "*.sh", "--json"], env)).stdout);
  assert.equal(found.length, 1);
  assert.equal(found[0].path, `/${name}/docs/script.sh`);

  const all = await tempDir();
  assert.equal((await cli(["restore", "latest", "--target", all], env)).code, 0);
  assert.deepEqual(describeTree(join(all, name)), describeTree(src));

  assert.equal((await cli(["diff", "latest", src], env)).code, 0);
  fs.writeFileSync(join(src, "added.txt"), "x");
  const d = await cli(["diff", "latest", src], env);
  assert.equal(d.code, 1);
  assert.match(d.stdout, /^\+ .*added\.txt$/m);

  const target = await tempDir();
  const r = await cli(["restore", `latest:/${name}/docs/script.sh`, "--target", target], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(target), ["script.sh"]);
  assert.equal(fs.statSync(join(target, "script.sh")).mode & 0o777, 0o755);

  // the repository is private to its owner: key objects can be guessed at offline
  for (const p of ["config", "keys", "packs", "index"]) {
    const st = fs.statSync(join(env.PERMAFROST_REPO, p));
    assert.equal(st.mode & 0o077, 0, `${p} is mode ${(st.mode & 0o777).toString(8)}`);
  }
  const cat = JSON.parse((await cli(["cat", "config"], env)).stdout);
  assert.equal(cat.version, 1);
  assert.equal((await cli(["check"], env)).code, 0);
});

Deno.test("the CLI's ingest key backs up but cannot read back", async () => {
  const { env, src } = await setup();
  const keyFile = join(await tempDir(), "ingest.key");
  const k = await cli(["key", "ingest", "--out", keyFile], env);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  const ingestEnv = { ...env, PERMAFROST_KEY_FILE: keyFile, PERMAFROST_PASSWORD: "" };
  const b = await cli(["backup", src], ingestEnv);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((await cli(["snapshots"], ingestEnv)).code, 0);
  for (
    const args of [["check"], ["restore", "latest", "--target", "/tmp/x"], ["ls", "latest"], [
      "find",
      "*",
    ], [
      "diff",
      "latest",
      src,
      "--content",
    ]]
  ) {
    const r = await cli(args, ingestEnv);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, /this key cannot read/, args.join(" "));
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
  }
});

Deno.test("the CLI names a wrong passphrase, a missing repository and a usage mistake", async () => {
  const { env } = await setup();
  const wrong = await cli(["snapshots"], { ...env, PERMAFROST_PASSWORD: "nope" });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /passphrase opens none/);
  const none = await cli(["snapshots", "--repo", await tempDir()], env);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no Permafrost repository here/);
  const usage = await cli(["restore", "latest"], env);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--target/);
  assert.equal((await cli(["frobnicate"], env)).code, 2);
  const help = await cli(["backup", "--help"], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--exclude GLOB/);
});

Deno.test("key passwd changes the passphrase without rewriting data", async () => {
  const { env, src, repo } = await setup();
  assert.equal((await cli(["backup", src], env)).code, 0);
  const packsBefore = fs.readdirSync(join(repo, "packs"), { recursive: true }).sort();
  const refused = await cli(["key", "passwd"], env);
  assert.equal(refused.code, 2, "the new passphrase never comes from PERMAFROST_PASSWORD");
  assert.match(refused.stderr, /PERMAFROST_NEW_PASSWORD/);
  const p = await cli(["key", "passwd", "--kdf-memlimit", "8MiB"], {
    ...env,
    PERMAFROST_NEW_PASSWORD: "new secret",
  });
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await cli(["snapshots"], env)).code, 1, "the old passphrase no longer opens it");
  const withNew = await cli(["snapshots", "--json"], { ...env, PERMAFROST_PASSWORD: "new secret" });
  assert.equal(withNew.code, 0, withNew.stderr);
  assert.equal(JSON.parse(withNew.stdout).length, 1);
  assert.deepEqual(fs.readdirSync(join(repo, "packs"), { recursive: true }).sort(), packsBefore);
});

Deno.test("backup with no repository configured creates the default one and says where", async () => {
  const home = await tempDir();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "a");
  const env = {
    HOME: home,
    PERMAFROST_CACHE_DIR: await tempDir(),
    XDG_DATA_HOME: "",
    PERMAFROST_REPO: "",
  };
  const b = await cli(["backup", src, "--kdf-memlimit", "8MiB"], env);
  assert.equal(b.code, 0, b.stderr);
  const where = join(home, ".local/share/permafrost/repo");
  assert.match(b.stderr, new RegExp(`creating the default repository at ${where}`));
  assert.ok(fs.existsSync(join(where, "config")));
  const again = await cli(["backup", src], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /using the default repository/);
});
