/**
 * The `worm` engine and never-change files, through the real CLI (docs/engines.md): changes and
 * vanished files are reported with the snapshot holding the original and the restore command,
 * exit status 5; a worm snapshot keeps the original; `--accept-changes` records the new version;
 * a lost ledger is rebuilt from the latest snapshot.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { worstStatus } from "../host/cli/cmd_backup.ts";

/**
 * A repository (through `init`: a local folder, or with `sqlite` a SQLite database), a source
 * folder, and the environment for `cli()`.
 */
async function setup(kind: "local" | "sqlite" = "local") {
  const base = await tempDir();
  const repo = kind === "sqlite" ? `sqlite:${join(base, "repo.db")}` : join(base, "repo");
  const cache = join(base, "cache");
  const env = { PERMAFROST_CACHE_DIR: cache, PERMAFROST_REPO: repo };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(base, "archive");
  fs.mkdirSync(join(src, "scans"), { recursive: true });
  fs.writeFileSync(join(src, "scans", "deed.tif"), randomBytes(300_000, 7));
  fs.writeFileSync(join(src, "scans", "copy.tif"), randomBytes(300_000, 7));
  fs.writeFileSync(join(src, "letter.txt"), "the original letter");
  return { base, repo, cache, env, src };
}

/** Runs `backup ARGS --json` and returns the exit status and the parsed result. */
async function backupJson(env: Record<string, string>, args: string[]) {
  const r = await cli(["backup", ...args, "--json"], env);
  assert.ok(r.code === 0 || r.code === 5, r.stderr);
  return { code: r.code, stderr: r.stderr, json: JSON.parse(r.stdout) };
}

Deno.test("a worm backup reports a changed and a vanished file with the restore command, keeps the original, and is quiet once the changes are accepted", async () => {
  const s = await setup();
  const first = await cli(["backup", "--engine", "worm", s.src], s.env);
  assert.equal(first.code, 0, first.stderr);
  const original = fs.readFileSync(join(s.src, "scans", "deed.tif"));

  fs.writeFileSync(join(s.src, "scans", "deed.tif"), randomBytes(300_000, 8));
  fs.rmSync(join(s.src, "letter.txt"));
  const second = await cli(["backup", "--engine", "worm", s.src], s.env);
  assert.equal(second.code, 5, second.stderr);
  const snaps = JSON.parse((await cli(["snapshots", "--json"], s.env)).stdout);
  const firstId: string = (snaps.snapshots ?? snaps)[0].id;
  assert.match(
    second.stdout,
    new RegExp(
      `changed: ".*deed\\.tif" \\(original in snapshot ${firstId.slice(0, 8)}\\): ` +
        `permafrost restore ${firstId}:/archive/scans/deed\\.tif --target DIR`,
    ),
  );
  assert.match(second.stdout, /vanished: ".*letter\.txt"/);

  // The latest snapshot keeps the original, and the restore command gives it back byte for byte.
  const latest = join(s.base, "latest");
  assert.equal((await cli(["restore", "latest", "--target", latest], s.env)).code, 0);
  assert.deepEqual(fs.readFileSync(join(latest, "archive", "scans", "deed.tif")), original);
  const one = join(s.base, "one");
  const restored = await cli(
    ["restore", `${firstId}:/archive/scans/deed.tif`, "--target", one],
    s.env,
  );
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(fs.readFileSync(join(one, "deed.tif")), original);

  // The next run still warns, in --json too.
  const third = await backupJson(s.env, ["--engine", "worm", s.src]);
  assert.equal(third.code, 5);
  assert.deepEqual(
    third.json.findings.map((f: { kind: string; rel: string; snapshot: string }) => [
      f.kind,
      f.rel,
      f.snapshot,
    ]),
    [["changed", "scans/deed.tif", firstId], ["vanished", "letter.txt", firstId]],
  );

  const accepted = await backupJson(s.env, ["--engine", "worm", "--accept-changes", s.src]);
  assert.equal(accepted.code, 0);
  assert.equal(accepted.json.findings.length, 2);
  const quiet = await backupJson(s.env, ["--engine", "worm", s.src]);
  assert.equal(quiet.code, 0);
  assert.deepEqual(quiet.json.findings, []);
  const now = join(s.base, "now");
  assert.equal((await cli(["restore", "latest", "--target", now], s.env)).code, 0);
  assert.deepEqual(
    fs.readFileSync(join(now, "archive", "scans", "deed.tif")),
    fs.readFileSync(join(s.src, "scans", "deed.tif")),
  );
});

for (const kind of ["local", "sqlite"] as const) {
  Deno.test(`worm stores identical files once, whole, and restores them byte for byte (${kind})`, async () => {
    const s = await setup(kind);
    fs.writeFileSync(join(s.src, "empty"), "");
    const r = await backupJson(s.env, ["--engine", "worm", s.src]);
    assert.equal(r.json.engine, "worm");
    // deed.tif and copy.tif (300,000 random bytes each) are stored once.
    assert.ok(r.json.stats.newBytes > 300_000 && r.json.stats.newBytes < 400_000);
    const out = join(s.base, "out");
    assert.equal((await cli(["restore", "latest", "--target", out], s.env)).code, 0);
    for (const f of ["scans/deed.tif", "scans/copy.tif", "letter.txt", "empty"]) {
      assert.deepEqual(fs.readFileSync(join(out, "archive", f)), fs.readFileSync(join(s.src, f)));
    }
  });
}

Deno.test("never-change under dedup: a content change is a finding, a new mtime alone is not, and a glob that matches nothing is named", async () => {
  const s = await setup();
  const args = ["--never-change", "*.tif", "--never-change", "*.pdf", s.src];
  const first = await cli(["backup", ...args], s.env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /"\*\.pdf" \(a never-change glob\) matched no file/);
  assert.doesNotMatch(first.stderr, /"\*\.tif"/);

  const copy = join(s.src, "scans", "copy.tif");
  fs.utimesSync(copy, new Date(2001, 1, 1), new Date(2001, 1, 1));
  fs.writeFileSync(join(s.src, "letter.txt"), "not protected: no glob names it");
  const touched = await backupJson(s.env, args);
  assert.equal(touched.code, 0, touched.stderr);
  assert.deepEqual(touched.json.findings, []);

  fs.writeFileSync(copy, randomBytes(300_000, 9));
  const changed = await backupJson(s.env, args);
  assert.equal(changed.code, 5);
  assert.deepEqual(changed.json.findings.map((f: { rel: string }) => f.rel), ["scans/copy.tif"]);
  // Not worm: the snapshot holds what is on disk.
  const out = join(s.base, "out");
  assert.equal((await cli(["restore", "latest", "--target", out], s.env)).code, 0);
  assert.deepEqual(
    fs.readFileSync(join(out, "archive", "scans", "copy.tif")),
    fs.readFileSync(copy),
  );
});

Deno.test("a lost protection ledger is rebuilt from the latest worm snapshot, and changes are still found", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  fs.rmSync(s.cache, { recursive: true });
  fs.writeFileSync(join(s.src, "letter.txt"), "a forged letter");
  const r = await cli(["backup", "--engine", "worm", s.src], s.env);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /had no protection ledger on this machine: rebuilt from snapshot/);
  assert.match(r.stdout, /changed: ".*letter\.txt"/);
});

Deno.test("worm status lists the protected files, what changed (by content) and what vanished, without backing up", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  const clean = await cli(["worm", "status", s.src, "--json"], s.env);
  assert.equal(clean.code, 0, clean.stderr);
  const [source] = JSON.parse(clean.stdout).sources;
  assert.deepEqual([source.engine, source.files, source.bytes], ["worm", 3, 600_019]);

  fs.utimesSync(join(s.src, "scans", "copy.tif"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  fs.writeFileSync(join(s.src, "scans", "deed.tif"), randomBytes(300_000, 8)); // same size
  fs.rmSync(join(s.src, "letter.txt"));
  const r = await cli(["worm", "status"], s.env);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /3 protected files, .*; 1 changed, 1 vanished/);
  assert.match(
    r.stdout,
    /changed: ".*deed\.tif" .*permafrost restore [0-9a-f]{64}:\/archive\/scans/,
  );
  assert.match(r.stdout, /vanished: ".*letter\.txt"/);
  assert.doesNotMatch(r.stdout, /copy\.tif/);
});

Deno.test("forget keeps every worm snapshot whatever the policy, unless --include-worm", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  fs.rmSync(join(s.src, "letter.txt")); // the first snapshot alone holds it now
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 5);
  const other = join(s.base, "other");
  fs.mkdirSync(other);
  fs.writeFileSync(join(other, "x"), "x");
  for (let i = 0; i < 2; i++) assert.equal((await cli(["backup", other], s.env)).code, 0);

  const kept = await cli(["forget", "--keep-last", "1", "--json"], s.env);
  assert.equal(kept.code, 0, kept.stderr);
  const plan = JSON.parse(kept.stdout);
  assert.equal(plan.forget.length, 1, "the older dedup snapshot is forgotten");
  const worm = plan.keep.filter((k: { reasons: string[] }) => k.reasons[0]?.startsWith("worm"));
  assert.equal(worm.length, 1, "the older worm snapshot is kept: it holds letter.txt");

  const all = await cli(["forget", "--keep-last", "1", "--include-worm", "--json"], s.env);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(JSON.parse(all.stdout).forget.length, 1);
  assert.equal(JSON.parse((await cli(["snapshots", "--json"], s.env)).stdout).length, 2);
});

Deno.test("a configured source that failed outranks another's changed protected files in backup's exit status", () => {
  // 5 says the snapshot was saved: it must not hide a source that saved none.
  assert.equal(worstStatus([5, 1]), 1);
  assert.equal(worstStatus([2, 5, 0]), 2);
  assert.equal(worstStatus([0, 5]), 5);
  assert.equal(worstStatus([0, 0]), 0);
});

Deno.test("a worm backup whose changed file's original is gone from the repository fails, commits nothing, and goes on with --accept-changes", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  fs.writeFileSync(join(s.src, "letter.txt"), "a forged letter");
  // The original's blob leaves the index, as after a forget --include-worm and a gc: here by
  // removing the index segments of the local repository.
  fs.rmSync(join(s.repo, "index"), { recursive: true });
  fs.mkdirSync(join(s.repo, "index"));
  const r = await cli(["backup", "--engine", "worm", s.src], s.env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /protected file ".*letter\.txt" changed, and its original .* can no longer be kept: .*Nothing was committed; run the backup with --accept-changes/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "one line, no stack trace");
  const snaps = JSON.parse((await cli(["snapshots", "--json"], s.env)).stdout);
  assert.equal((snaps.snapshots ?? snaps).length, 1);
  assert.equal(
    (await cli(["backup", "--engine", "worm", "--accept-changes", s.src], s.env)).code,
    0,
  );
});

/** Every file named `name` under `dir` (none when `dir` does not exist). */
function filesNamed(dir: string, name: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p.split("/").pop() === name);
}

Deno.test("a dry run and an estimate rebuild a lost protection ledger in memory only: they write none, and still find the change", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  fs.rmSync(s.cache, { recursive: true });
  fs.writeFileSync(join(s.src, "letter.txt"), "a forged letter");

  for (const flag of ["--dry-run", "--estimate"]) {
    const r = await cli(["backup", "--engine", "worm", flag, s.src], s.env);
    assert.ok(r.code === 5 || r.code === 0, `${flag}: ${r.stderr}`);
    assert.deepEqual(filesNamed(s.cache, "protection.sqlite"), [], `${flag} wrote a ledger`);
    assert.match(r.stderr, /this dry run rebuilt it in memory from snapshot [0-9a-f]{8}/, flag);
    if (flag === "--dry-run") {
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stdout, /changed: ".*letter\.txt"/);
    }
  }
  // So the backup still finds the ledger lost, rebuilds it on disk and reports the change.
  const real = await cli(["backup", "--engine", "worm", s.src], s.env);
  assert.equal(real.code, 5, real.stderr);
  assert.match(real.stderr, /had no protection ledger on this machine: rebuilt from snapshot/);
  assert.equal(filesNamed(s.cache, "protection.sqlite").length, 1);
});

Deno.test("a worm source moved away stays vanished until worm forget drops it, after a dry run and a confirmation, keeping its snapshot", async () => {
  const s = await setup();
  assert.equal((await cli(["backup", "--engine", "worm", s.src], s.env)).code, 0);
  const moved = join(s.base, "archive-2019");
  fs.renameSync(s.src, moved);

  // Status names the way out; a backup of the old path cannot clear it.
  const status = await cli(["worm", "status"], s.env);
  assert.equal(status.code, 5, status.stderr);
  assert.match(status.stdout, /3 vanished \(the source itself is gone from this disk\)/);
  assert.match(status.stdout, new RegExp(`permafrost worm forget ${s.src}\\n`));
  const accept = await cli(["backup", "--engine", "worm", "--accept-changes", s.src], s.env);
  assert.equal(accept.code, 1, accept.stderr);

  const dry = await cli(["worm", "forget", s.src, "--dry-run", "--json"], s.env);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(
    [plan.dryRun, plan.files, plan.bytes, plan.items[0].whole, plan.items[0].sourceGone],
    [true, 3, 600_019, true, true],
  );
  assert.deepEqual(plan.items[0].paths, ["letter.txt", "scans/copy.tif", "scans/deed.tif"]);
  assert.equal((await cli(["worm", "status"], s.env)).code, 5, "a dry run drops nothing");

  const unconfirmed = await cli(["worm", "forget", s.src], s.env);
  assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, /would stop protecting 3 files: add --yes to go ahead/);
  assert.equal((await cli(["worm", "status"], s.env)).code, 5, "nothing dropped unconfirmed");

  const forgot = await cli(["worm", "forget", s.src, "--yes"], s.env);
  assert.equal(forgot.code, 0, forgot.stderr);
  assert.match(forgot.stdout, /all 3 protected files, .*; originals in snapshot [0-9a-f]{8}/);
  const quiet = await cli(["worm", "status"], s.env);
  assert.equal(quiet.code, 0, quiet.stdout);
  assert.match(quiet.stdout, /no protected files on this machine/);

  // The new path is protected from its own first backup on; the old snapshot is kept.
  assert.equal((await cli(["backup", "--engine", "worm", moved], s.env)).code, 0);
  assert.equal((await cli(["worm", "status"], s.env)).code, 0);
  const snaps = JSON.parse((await cli(["snapshots", "--json"], s.env)).stdout);
  assert.equal((snaps.snapshots ?? snaps).length, 2);
  const missing = await cli(["worm", "forget", join(s.base, "elsewhere"), "--yes"], s.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no protected file on this machine is at or under ".*elsewhere"/);
});
