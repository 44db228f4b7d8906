/**
 * `backup` with the configuration file (docs/config.md), through the real CLI: every source,
 * or those `--source` names, each one snapshot with its own filters and tags; the file's
 * repository below --repo and PERMAFROST_REPO; a mistake in the file refused at its line before
 * anything is written; a source that fails leaving the others be.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, tempDir } from "./helpers.ts";

/** A repository (through `init --repo`), two source folders, and a config file beside them. */
async function setup() {
  const base = await tempDir();
  const repo = join(base, "repo");
  const env = { PERMAFROST_CACHE_DIR: await tempDir(), PERMAFROST_REPO: "" };
  const init = await cli(
    ["init", "--repo", repo, "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"],
    env,
  );
  assert.equal(init.code, 0, init.stderr);
  const photos = join(base, "photos"), home = join(base, "home");
  fs.mkdirSync(join(photos, "raw"), { recursive: true });
  fs.writeFileSync(join(photos, "raw", "a.cr2"), "raw photo");
  fs.writeFileSync(join(photos, "a.jpg"), "photo");
  fs.writeFileSync(join(photos, "a.xmp~"), "editor backup");
  fs.mkdirSync(join(home, "src"), { recursive: true });
  fs.writeFileSync(join(home, "notes.txt"), "notes");
  fs.writeFileSync(join(home, "src", "main.ts"), "code");
  fs.writeFileSync(join(home, "src", "main.js"), "built");
  fs.writeFileSync(join(base, "home.exclude"), "*.js\n");
  const config = join(base, "permafrost.toml");
  return { base, repo, env, photos, home, config };
}

/** The config file text for `setup()`'s folders, with `extra` lines at the end. */
function configText(s: Awaited<ReturnType<typeof setup>>, extra = ""): string {
  return `repository = "${s.repo}"

[[source]]
name = "photos"
paths = ["${s.photos}"]
exclude = ["*.xmp~"]
tags = ["photos"]

[[source]]
name = "home"
paths = ["${s.home}"]
exclude_file = "home.exclude"
tags = ["daily"]
${extra}`;
}

/** Every file under `dir`, with its size and mtime. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = join(rel, e.name);
      const st = fs.lstatSync(join(dir, path));
      out.push(`${path} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(path);
    }
  };
  walk("");
  return out.sort();
}

async function snapshots(repo: string, env: Record<string, string>) {
  const r = await cli(["snapshots", "--json", "--repo", repo], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { paths: string[]; tags: string[]; engine: string }[];
}

async function files(repo: string, env: Record<string, string>, path: string) {
  const r = await cli(["ls", "latest", path, "--json", "--repo", repo], env);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { path: string; type: string }[])
    .filter((e) => e.type === "file").map((e) => e.path).sort();
}

Deno.test("backup with no path backs up every configured source into the configured repository, one snapshot each with its filters and tags", async () => {
  const s = await setup();
  fs.writeFileSync(s.config, configText(s));
  const r = await cli(["backup", "--config", s.config, "--tag", "cli", "--json"], s.env);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.sources.map((x: { source: string }) => x.source), ["photos", "home"]);
  assert.ok(result.sources.every((x: { snapshot: string }) => /^[0-9a-f]{64}$/.test(x.snapshot)));
  const snaps = await snapshots(s.repo, s.env);
  assert.deepEqual(snaps.map((x) => [x.paths, x.tags, x.engine]), [
    [[s.photos], ["photos", "cli"], "dedup"],
    [[s.home], ["daily", "cli"], "dedup"],
  ]);
  assert.deepEqual(await files(s.repo, s.env, "/home"), ["/home/notes.txt", "/home/src/main.ts"]);
});

Deno.test("backup --source backs up only the sources named; a name the file lacks lists those it has", async () => {
  const s = await setup();
  fs.writeFileSync(s.config, configText(s));
  const env = { ...s.env, PERMAFROST_CONFIG: s.config };
  const r = await cli(["backup", "--source", "photos"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^source "photos": snapshot [0-9a-f]{8} saved/);
  assert.deepEqual((await snapshots(s.repo, s.env)).map((x) => x.paths), [[s.photos]]);
  assert.deepEqual(await files(s.repo, s.env, "/photos"), ["/photos/a.jpg", "/photos/raw/a.cr2"]);

  const unknown = await cli(["backup", "--source", "photo"], env);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /no source is named "photo" in .*permafrost\.toml \(sources: "photos", "home"\); did you mean "photos"\?/,
  );
  const both = await cli(["backup", "--source", "photos", s.home], env);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give PATHs or --source NAME, not both/);
});

Deno.test("PERMAFROST_REPO wins over the configured repository, which other commands use too", async () => {
  const s = await setup();
  const other = join(s.base, "other");
  const init = await cli(["init", "--repo", other, "--kdf-memlimit", "8MiB"], s.env);
  assert.equal(init.code, 0, init.stderr);
  fs.writeFileSync(s.config, configText(s));
  const env = { ...s.env, PERMAFROST_CONFIG: s.config, PERMAFROST_REPO: other };
  const r = await cli(["backup", "--source", "home"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await snapshots(other, s.env)).length, 1);
  assert.equal((await snapshots(s.repo, s.env)).length, 0);
  // Without them, a command reads the configured one.
  const listed = await cli(["snapshots", "--json"], { ...s.env, PERMAFROST_CONFIG: s.config });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), []);
});

Deno.test("a mistake in the configuration file stops backup at its line before anything is written", async () => {
  const s = await setup();
  const before = listing(s.repo);
  const cases: [string, RegExp][] = [
    [
      configText(s, `\n[[source]]\nname = "site"\npaths = ["${s.home}/src"]\nengine = "sinc"\n`),
      /permafrost\.toml line 18: source "site": engine "sinc" is not installed \(engines: "dedup"/,
    ],
    [
      configText(s, `exlude = ["*.o"]\n`),
      /permafrost\.toml line 14: source "home": unknown key "exlude"; did you mean "exclude"\?/,
    ],
    [
      configText(s).replace(`exclude_file = "home.exclude"`, `exclude_file = "missing.exclude"`),
      /permafrost\.toml line 12: source "home": exclude_file ".*missing\.exclude" cannot be read/,
    ],
  ];
  for (const [text, message] of cases) {
    fs.writeFileSync(s.config, text);
    const r = await cli(["backup", "--config", s.config], s.env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr);
    assert.deepEqual(listing(s.repo), before, "nothing was written");
  }
});

Deno.test("a configured source that fails does not stop the others, and the exit status says so", async () => {
  const s = await setup();
  fs.writeFileSync(
    s.config,
    configText(s).replace(`paths = ["${s.photos}"]`, `paths = ["${s.photos}-gone"]`),
  );
  const r = await cli(["backup", "--config", s.config, "--json"], s.env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /permafrost: source "photos": source ".*photos-gone" does not exist/);
  const result = JSON.parse(r.stdout);
  assert.match(result.sources[0].error, /does not exist/);
  assert.equal(result.sources[0].snapshot, undefined);
  assert.match(result.sources[1].snapshot, /^[0-9a-f]{64}$/);
  assert.deepEqual((await snapshots(s.repo, s.env)).map((x) => x.paths), [[s.home]]);
});
