/**
 * Shared helpers for flow tests: temporary folders, a sample source tree, repositories with
 * fast key derivation, the CLI as a subprocess, and tree comparison.
 *
 * @module
 */

import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { COARSE_RACY_MARGIN_MS } from "../host/cache/file_cache.ts";
import { Repository, type SnapshotEntry } from "../host/repository/repository.ts";
import { backup } from "../host/ops/backup.ts";
import { executeForget } from "../host/ops/forget.ts";
import { openStorage } from "../host/storage/open.ts";
import type { Role } from "../host/storage/storage.ts";
import { planRestore, type RestorePlan } from "../host/ops/restore_plan.ts";
import { executeRestore, type RestoreResult } from "../host/ops/restore.ts";
import type { ColdRecord } from "../plugins/storage/local/cold_simulation.ts";
import { COLD_DIR } from "../plugins/storage/local/object_path.ts";

/** Argon2id parameters small enough for tests (never for real repositories). */
export const TEST_KDF = { opslimit: 1, memlimit: 8 << 20 };
export const PASSWORD = "correct horse battery staple";

/** Folders made by `tempDir` in this test module, removed when the module's process ends. */
const madeDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of madeDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone, or a test made part of it unreadable: leave it
    }
  }
});

let isolatedDirs: { cache: string; state: string } | undefined;

/** This test module's own cache and state folders, for CLI runs that name none. */
function isolated(): { cache: string; state: string } {
  if (!isolatedDirs) {
    const root = Deno.makeTempDirSync({ prefix: "pf-test-" });
    madeDirs.push(root);
    isolatedDirs = { cache: join(root, "cache"), state: join(root, "state") };
  }
  return isolatedDirs;
}

/** A fresh temporary folder, removed with everything in it when the test module ends. */
export async function tempDir(prefix = "pf-test-"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  madeDirs.push(dir);
  return dir;
}

/** A repository in a fresh folder, with small packs so tests make several. */
/**
 * A backed-up sample tree (`writeSampleTree`) in a repository in the local back end's cold
 * simulation, with small packs and a restore delay of an hour (`finishColdRestores` ends it).
 */
export async function coldSampleRepo(): Promise<
  { dir: string; location: string; repo: Repository; src: string; snapshot: string }
> {
  const dir = join(await tempDir(), "repo");
  const location = `local:${dir}?cold=simulate&restore-delay=3600`;
  const repo = await Repository.init(
    await openStorage(location, "admin", { create: true }),
    PASSWORD,
    {
      kdf: TEST_KDF,
      config: { pack: { dataSize: 1 << 20, metaSize: 256 << 10, frameSize: 64 << 10 } },
    },
  );
  const src = await tempDir();
  writeSampleTree(src);
  const { id } = await backup(repo, { paths: [src] });
  return { dir, location, repo, src, snapshot: id! };
}

export async function newRepo(
  options: { dataSize?: number; metaSize?: number; frameSize?: number } = {},
): Promise<{ dir: string; repo: Repository; cacheDir: string }> {
  const dir = await tempDir("pf-repo-");
  const storage = await openStorage(dir, "admin", { create: true });
  const repo = await Repository.init(storage, PASSWORD, {
    kdf: TEST_KDF,
    config: {
      chunker: { algorithm: "fastcdc-2020", min: 16 << 10, avg: 64 << 10, max: 256 << 10 },
      pack: {
        dataSize: options.dataSize ?? 1 << 20,
        metaSize: options.metaSize ?? 256 << 10,
        frameSize: options.frameSize ?? 64 << 10,
      },
    },
  });
  return { dir, repo, cacheDir: await tempDir("pf-cache-") };
}

/** Reopens a repository folder with the passphrase (or a key file) in a role. */
export async function reopen(
  dir: string,
  credentials: { passphrase?: string; keyFile?: Uint8Array } = { passphrase: PASSWORD },
  role: Role = "admin",
): Promise<Repository> {
  return await Repository.open(await openStorage(dir, role), credentials);
}

/** Restores `path` (default: all) of the latest snapshot of the repository in `dir`. */
export async function restoreLatest(
  dir: string,
  target: string,
  path = "/",
): Promise<{ plan: RestorePlan; result: RestoreResult }> {
  const repo = await reopen(dir);
  try {
    const snap = await repo.snapshot("latest");
    const plan = await planRestore(repo, snap.id, snap.manifest.root, path);
    return { plan, result: await executeRestore(repo, plan, { target }) };
  } finally {
    await repo.storage.close();
  }
}

/** Deterministic pseudo-random bytes. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Writes a sample tree: nested dirs, small and large files, an empty file and an empty dir,
 * odd Unicode names, a symlink, a hard link, unusual modes and fixed mtimes.
 */
export function writeSampleTree(root: string): void {
  const w = (rel: string, data: string | Uint8Array, mode = 0o644) => {
    const p = join(root, rel);
    fs.mkdirSync(join(p, ".."), { recursive: true });
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
  };
  w("hello.txt", "hello, world\n");
  w("empty", "");
  w("docs/readme.md", "# Read me\n".repeat(100));
  w("docs/deep/nested/file.txt", "deep\n");
  w("docs/script.sh", "#!/bin/sh\necho hi\n", 0o755);
  w("docs/secret.txt", "private\n", 0o600);
  w("Ünïcødé 名前 🧊.txt", "unicode name\n");
  w("line\nbreak name", "newline in name\n");
  w("big/random.bin", randomBytes(700 << 10, 7));
  w("big/repeat.bin", new TextEncoder().encode("abcdefgh".repeat(40_000)));
  fs.mkdirSync(join(root, "emptydir"));
  fs.symlinkSync("hello.txt", join(root, "link-to-hello"));
  fs.symlinkSync("/nonexistent/target", join(root, "dangling"));
  fs.linkSync(join(root, "docs/readme.md"), join(root, "hardlink.md"));
  const t = new Date("2021-03-04T05:06:07.089Z");
  for (const rel of ["hello.txt", "docs/readme.md", "big/random.bin", "emptydir", "docs/deep"]) {
    fs.utimesSync(join(root, rel), t, t);
  }
  fs.lutimesSync(join(root, "link-to-hello"), t, t);
}

/**
 * Everything about a tree that a restore must reproduce, keyed by relative path: type, mode,
 * mtime, a symlink's target, hard links, and a file's size and SHA-256, so two trees compare
 * equal only if every file's bytes are the same, and a difference names the path.
 */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<string, string>();
  const walk = (rel: string) => {
    const p = rel === "" ? root : join(root, rel);
    const st = fs.lstatSync(p);
    const key = rel === "" ? "." : rel;
    const common = `mode=${(st.mode & 0o7777).toString(8)} mtime=${Math.trunc(st.mtimeMs)}`;
    if (st.isSymbolicLink()) {
      out[key] = `symlink -> ${fs.readlinkSync(p)} mtime=${Math.trunc(st.mtimeMs)}`;
    } else if (st.isDirectory()) {
      out[key] = `dir ${common}`;
      for (const name of fs.readdirSync(p).sort()) walk(rel === "" ? name : `${rel}/${name}`);
    } else {
      const data = fs.readFileSync(p);
      let link = "";
      if (st.nlink > 1) {
        const id = `${st.dev}:${st.ino}`;
        link = ` link=${inodes.get(id) ?? (inodes.set(id, key), key)}`;
      }
      out[key] = `file ${common} size=${data.length} sha256=${sha256(data)}${link}`;
    }
  };
  walk("");
  return out;
}

/** The SHA-256 of `data` in hex (node:crypto, not the code under test). */
function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Resolves at the first instant a backup that starts then may keep every file under `root` in
 * its file cache: once the clock is `COARSE_RACY_MARGIN_MS` past the latest mtime and ctime
 * there (host/cache/file_cache.ts does not trust a time closer to the run's start; ctimes come
 * to the second here, so the coarse margin applies). The kernel sets ctimes and a test cannot
 * date them back, so this waits on the clock, but for the time the files give, not a guess.
 */
export async function fileCacheWillTrust(root: string): Promise<void> {
  let latest = 0;
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    latest = Math.max(latest, st.ctimeMs, st.mtimeMs);
    if (!st.isDirectory()) return;
    for (const name of fs.readdirSync(p)) walk(join(p, name));
  };
  walk(root);
  const at = Math.ceil(latest) + COARSE_RACY_MARGIN_MS + 1;
  while (Date.now() < at) await new Promise((r) => setTimeout(r, at - Date.now()));
}

/** Runs the CLI as a subprocess with the test passphrase (unless `env` overrides it). */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await cliCommand(args, env).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The CLI as a running child process, for runs a test signals or overlaps (as `cli`). */
export function spawnCli(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return cliCommand(args, env).spawn();
}

function cliCommand(args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL("../host/cli/main.ts", import.meta.url).pathname,
      ...args,
    ],
    env: {
      PERMAFROST_PASSWORD: PASSWORD,
      NO_COLOR: "1",
      // Never the developer's own cache (file cache, refreshed prices) or restore jobs.
      PERMAFROST_CACHE_DIR: isolated().cache,
      PERMAFROST_STATE_DIR: isolated().state,
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Forgets one snapshot the way `forget` does (deletes its manifest; nothing else). */
export async function forgetOne(repo: Repository, s: SnapshotEntry): Promise<void> {
  const m = s.manifest;
  const decision = { id: s.id, time: m.time, host: m.host, paths: m.paths, tags: m.tags };
  await executeForget(repo, { keep: [], forget: [{ ...decision, reasons: [] }] });
}

/**
 * A repository in the local back end's cold-simulation mode (data packs archived until a
 * restore request, readable `delaySeconds` after it), created through the CLI with 1 MiB packs;
 * its folder, location, and the environment for `cli()` (own cache and state folders, plus
 * `env`).
 */
export async function initColdRepo(
  delaySeconds = 1,
  env: Record<string, string> = {},
): Promise<{ dir: string; location: string; env: Record<string, string> }> {
  const dir = join(await tempDir(), "repo");
  const location = `local:${dir}?cold=simulate&restore-delay=${delaySeconds}`;
  const all = {
    PERMAFROST_REPO: location,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
    ...env,
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], all);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  return { dir, location, env: all };
}

/**
 * Ends the wait of every restore still running in the cold simulation of the local repository
 * folder `dir`, as if its `restore-delay` had passed: each record in `.cold/`
 * (plugins/storage/local/cold_simulation.ts) whose restore is not ready yet gets
 * `readyAt = requestedAt`, so tests use a long delay and move past it at the step they choose,
 * never by sleeping. Returns how many restores it ended. Call it while no process uses `dir`.
 */
export function finishColdRestores(dir: string): number {
  const cold = join(dir, COLD_DIR);
  const now = Date.now();
  let finished = 0;
  for (const name of fs.readdirSync(cold).filter((f) => f.endsWith(".json"))) {
    const file = join(cold, name);
    const record: ColdRecord = JSON.parse(fs.readFileSync(file, "utf8"));
    const r = record.restore;
    if (r === undefined || Date.parse(r.readyAt) <= now || Date.parse(r.until) <= now) continue;
    r.readyAt = r.requestedAt;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp`, file);
    finished++;
  }
  return finished;
}

/**
 * The environment of a CLI run against a local S3 server at `endpoint`: no AWS setting of this
 * machine leaks in (empty is unset for the SDK: no keys or profile another test file set in
 * this process), and the run gets cache and state folders of its own.
 */
export async function awsEnv(endpoint: string) {
  const none = join(await tempDir(), "none");
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_SESSION_TOKEN: "",
    AWS_PROFILE: "",
    AWS_SHARED_CREDENTIALS_FILE: none,
    AWS_CONFIG_FILE: none,
    AWS_EC2_METADATA_DISABLED: "true",
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
}
