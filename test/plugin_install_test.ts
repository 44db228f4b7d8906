/**
 * Installing a third-party plugin through the real CLI (docs/plugins.md §7.5): the example
 * `examples/filter-mime` is added, listed, used by a backup (which leaves out the right files),
 * verified, tampered with (the backup refuses it), and removed; it is refused a read outside
 * its grant, and `add` installs nothing without a terminal or `--yes`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { planAdd } from "../host/plugin/install.ts";
import { cli, tempDir } from "./helpers.ts";

const example = fileURLToPath(new URL("../examples/filter-mime/", import.meta.url));
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function setup() {
  const repo = join(await tempDir(), "repo");
  const plugins = join(await tempDir(), "plugins");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_PLUGINS_DIR: plugins };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "photo.dat"), new Uint8Array([...PNG, 1, 2, 3])); // PNG by its bytes
  fs.writeFileSync(join(src, "scan.pdf"), "not really a pdf, but named like one");
  fs.writeFileSync(join(src, "notes.txt"), "kept");
  fs.mkdirSync(join(src, "sub"));
  fs.writeFileSync(join(src, "sub", "deep.png"), new Uint8Array(PNG));
  return { env, plugins, src };
}

async function snapshotFiles(env: Record<string, string>, name: string): Promise<string[]> {
  const r = await cli(["ls", "latest", `/${name}`, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as { path: string; type: string }[];
  return entries.filter((e) => e.type === "file").map((e) => e.path.slice(name.length + 2))
    .sort();
}

const skip = `mime={"skip":["image/*","application/pdf"]}`;

Deno.test("an installed filter plugin is added, listed, used, verified, refused when tampered, removed", async () => {
  const { env, plugins, src } = await setup();
  const added = await cli(["plugin", "add", example, "--yes"], env);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /read the files being backed up/);
  assert.match(added.stdout, /installed filter plugin "mime"/);

  const listed = await cli(["plugin", "list", "--json"], env);
  assert.equal(listed.code, 0, listed.stderr);
  const [entry] = JSON.parse(listed.stdout);
  assert.equal(`${entry.kind}/${entry.name}`, "filter/mime");
  assert.deepEqual(entry.grants, { read: ["$sources"] });

  const backedUp = await cli(["backup", src, "--filter", skip], env);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  const name = src.split("/").pop()!;
  assert.deepEqual(await snapshotFiles(env, name), ["notes.txt"]);

  const verified = await cli(["plugin", "verify"], env);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /filter\/mime: ok/);

  const bundle = join(plugins, "filter-mime", "bundle.js");
  fs.appendFileSync(bundle, "\n// changed after it was confirmed\n");
  const tampered = await cli(["plugin", "verify", "mime"], env);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, /CHANGED since it was installed/);
  const refused = await cli(["backup", src, "--filter", skip], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bundle\.js" is not the file that was installed/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");

  const removed = await cli(["plugin", "remove", "mime"], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(fs.existsSync(join(plugins, "filter-mime")), false);
  const gone = await cli(["backup", src, "--filter", skip], env);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /filter "mime" is not installed/);
});

Deno.test("plugin add without a terminal and without --yes shows the asks and installs nothing", async () => {
  const { env, plugins } = await setup();
  const r = await cli(["plugin", "add", example], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /It asks to:\n {2}- read the files being backed up/);
  assert.match(r.stderr, /was not installed/);
  assert.equal(fs.existsSync(join(plugins, "plugins.lock.json")), false);
});

Deno.test("a plugin asking for net and env is shown as risky and gets nothing without a confirm", async () => {
  const { env, plugins } = await setup();
  const dir = await tempDir();
  fs.cpSync(example, dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(join(dir, "plugin.json"), "utf8"));
  manifest.permissions = { ...manifest.permissions, net: true, env: true };
  fs.writeFileSync(join(dir, "plugin.json"), JSON.stringify(manifest));
  const r = await cli(["plugin", "add", dir], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /! connect to any server on the network {2}\(risky\)/);
  assert.match(r.stderr, /! read every environment variable .*\(risky\)/);
  assert.equal(fs.existsSync(join(plugins, "plugins.lock.json")), false);

  // Installed without net/env first, the same plugin asking for them again needs a new confirm.
  assert.equal((await cli(["plugin", "add", example, "--yes"], env)).code, 0);
  const again = await cli(["plugin", "add", dir], env);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /asks for MORE than it was granted: net: everything, env: everything/);
  const lock = JSON.parse(fs.readFileSync(join(plugins, "plugins.lock.json"), "utf8"));
  assert.deepEqual(lock.plugins["filter/mime"].grants, { read: ["$sources"] });
});

/** `example`'s files, with `extra(dir)` run in the copy, as `mime.tar.gz` (one top folder). */
async function archiveOf(extra: (dir: string) => Promise<void> | void): Promise<string> {
  const top = await tempDir();
  const dir = join(top, "mime");
  fs.cpSync(example, dir, { recursive: true });
  await extra(dir);
  const archive = join(top, "mime.tar.gz");
  const tar = await new Deno.Command("tar", { args: ["-czSf", archive, "-C", top, "mime"] })
    .output();
  assert.ok(tar.success, new TextDecoder().decode(tar.stderr));
  return archive;
}

Deno.test("plugin add of a .tar.gz plans the plugin it holds", async () => {
  const plan = await planAdd(await archiveOf(() => {}), await tempDir());
  assert.equal(`${plan.manifest.kind}/${plan.manifest.name}`, "filter/mime");
});

Deno.test("plugin add refuses an archive holding a link, a FIFO, or a bomb, before unpacking it", async () => {
  const link = await archiveOf((dir) => fs.symlinkSync("/etc/passwd", join(dir, "rules.ts")));
  await assert.rejects(planAdd(link, await tempDir()), /holds a link, "mime\/rules\.ts"/);

  // A FIFO as plugin.json would hang the manifest read forever.
  const fifo = await archiveOf(async (dir) => {
    fs.rmSync(join(dir, "plugin.json"));
    const made = await new Deno.Command("mkfifo", { args: [join(dir, "plugin.json")] }).output();
    assert.ok(made.success);
  });
  await assert.rejects(
    planAdd(fifo, await tempDir()),
    /holds "mime\/plugin\.json", which is neither a file nor a folder/,
  );

  // 300 MiB of nothing (sparse, so cheap to make) would fill the disk as it unpacks.
  const bomb = await archiveOf((dir) => {
    const fd = fs.openSync(join(dir, "padding.bin"), "w");
    fs.ftruncateSync(fd, 300 * 1024 * 1024);
    fs.closeSync(fd);
  });
  await assert.rejects(planAdd(bomb, await tempDir()), /unpacks to more than 256 MiB/);
});

Deno.test("an installed filter is refused a read outside the backup's sources", async () => {
  const { env, src } = await setup();
  assert.equal((await cli(["plugin", "add", example, "--yes"], env)).code, 0);
  // A file name that climbs out of the source: the walker never sends one, so ask directly.
  const outside = await tempDir();
  fs.writeFileSync(join(outside, "secret.png"), new Uint8Array(PNG));
  const probe = `
    import { startPlugin } from ${
    JSON.stringify(new URL("../host/plugin/sandbox.ts", import.meta.url).href)
  };
    const h = await startPlugin({ kind: "filter", name: "mime", vars: { $sources: [${
    JSON.stringify(src)
  }] },
      config: { skip: ["image/*"] } });
    try {
      await h.call("match", [${
    JSON.stringify("../" + outside.split("/").pop() + "/secret.png")
  }], [false], ${JSON.stringify(src)});
      console.log("read it");
    } catch (e) { console.log(e.name + ": " + e.message); }
    await h.close();`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", probe],
    env: { PERMAFROST_PLUGINS_DIR: env.PERMAFROST_PLUGINS_DIR },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(
    text,
    /^NotCapable: Requires read access to ".*secret\.png"/,
    new TextDecoder().decode(out.stderr),
  );
});

Deno.test("an installed engine is picked with --engine and its snapshot restores", async () => {
  const { env, src } = await setup();
  const dir = await tempDir();
  const worm = fileURLToPath(new URL("../plugins/engine/worm/", import.meta.url));
  const code = fs.readFileSync(join(worm, "mod.ts"), "utf8");
  fs.writeFileSync(join(dir, "mod.ts"), code.replace('"../../sdk/mod.ts"', '"@permafrost/sdk"'));
  const manifest = JSON.parse(fs.readFileSync(join(worm, "plugin.json"), "utf8"));
  fs.writeFileSync(join(dir, "plugin.json"), JSON.stringify({ ...manifest, name: "whole" }));
  assert.equal((await cli(["plugin", "add", dir, "--yes"], env)).code, 0);
  const r = await cli(["backup", src, "--engine", "whole", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const target = await tempDir();
  const restored = await cli(["restore", "latest", "--target", target], env);
  assert.equal(restored.code, 0, restored.stderr);
  const name = src.split("/").pop()!;
  for (const file of ["photo.dat", "scan.pdf", "notes.txt", "sub/deep.png"]) {
    assert.deepEqual(fs.readFileSync(join(target, name, file)), fs.readFileSync(join(src, file)));
  }
});
