/**
 * moto, the local S3 the tests run against (docs/design.md §9): installed once into a
 * project-local virtual environment (`.cache/moto-venv`, git-ignored) and started per test file
 * on a free loopback port.
 *
 * `deno task test` runs this module first (`deno run -A test/rig/moto.ts`), so the one-time
 * install (about a minute, needs Python 3 with `venv`) happens before the tests and not inside
 * one; `startMoto()` installs too when it is missing, so a single test file also runs alone.
 * The install holds an exclusive lock on `.cache/moto-venv.lock`, so parallel test processes
 * wait for one install instead of racing; a marker file naming the version says it finished.
 *
 * The server is `moto_server.py` beside this file: moto's own `ThreadedMotoServer` (the
 * server `moto_server` runs) bound to 127.0.0.1 port 0, which prints the port the system
 * chose (no race for a "free" port) and exits when its stdin closes, i.e. when the test
 * process stops it or dies.
 *
 * What moto 5.2.5 does, checked here against its source and by requests through
 * `@aws-sdk/client-s3` 3.1175.0:
 * - `PutObject` with `x-amz-storage-class: DEEP_ARCHIVE` (or GLACIER) stores that class;
 *   HeadObject and ListObjectsV2 report it (STANDARD objects have no class header).
 * - `GetObject` of a GLACIER/DEEP_ARCHIVE object answers 403 `InvalidObjectState` unless its
 *   `x-amz-restore` says `ongoing-request="false"` (ranged GETs too). HeadObject works on it.
 * - `RestoreObject` answers 202 (200 if the object had been restored before), ignores the
 *   tier, and sets the restore's expiry to now + `Days`. Of a STANDARD object it answers 403
 *   `InvalidObjectState`, of a missing key 404 `NoSuchKey`. It never answers 409
 *   `RestoreAlreadyInProgress`.
 * - `x-amz-restore` comes from the key's managed state, model name `s3::keyrestore`, states
 *   `None -> IN_PROGRESS -> RESTORED`: `ongoing-request="true"` in IN_PROGRESS, otherwise
 *   `ongoing-request="false", expiry-date="…"`. The default progression is "immediate", so a
 *   restore is done at once. To hold one in progress: `POST /moto-api/state-manager/set-transition`
 *   with `{"model_name": "s3::keyrestore", "transition": {"progression": "manual", "times": 1}}`
 *   before the restore (every HEAD/GET of the key counts one tick, so the first HEAD after
 *   `RestoreObject` moves it to IN_PROGRESS), then set `times` to a large number to keep it
 *   there, and `unset-transition` (back to immediate) to let it finish at the next request.
 *   The state is per key, the transition setting global to the server. Caution: a status
 *   still at `None` (e.g. `times` set high before the first tick moved it) shows as done
 *   (`ongoing-request="false"`), not as in progress.
 * - `If-None-Match: *` on PutObject answers 412 `PreconditionFailed` for an existing key, and
 *   on CompleteMultipartUpload too (a retried completion of the same upload id succeeds). The
 *   check is not atomic with the write: 8 racing PUTs of one key usually have one winner (the
 *   SDK sees 412 for the rest), but on a loaded machine two can win, the later replacing the
 *   earlier (seen in a parallel test run), so the conformance suite's race test runs with
 *   `racyCreateOnly` on moto. It never answers 409
 *   `ConditionalRequestConflict`.
 * - Checksums: moto does not verify `x-amz-checksum-*` (a wrong SHA-256 is accepted) nor
 *   `Content-MD5`, and stores a checksum only when `x-amz-sdk-checksum-algorithm` names it.
 *   User metadata (`x-amz-meta-*`) round-trips. LastModified has whole seconds.
 * - Errors: HeadObject of a missing key is a bare 404 (the SDK names it `NotFound`); GET of a
 *   missing key `NoSuchKey`; a range starting past the end 416 `InvalidRange`.
 * - Every S3 and IAM request counts towards `INITIAL_NO_AUTH_ACTION_COUNT`, and any HEAD or
 *   GET of a key (the test's own too) advances a held restore: raise `times` before any GET.
 * - No faults can be injected (no throttling, 5xx or dropped connections): retries are tested
 *   against a closed port instead.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The moto version the tests are written against (`pip install "moto[server]==…"`). */
export const MOTO_VERSION = "5.2.5";

/** The managed-state model of S3 restores (moto/s3/models.py, `FakeKey`). */
export const RESTORE_MODEL = "s3::keyrestore";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cacheDir = join(root, ".cache");
/** Where moto is installed. */
export const venvDir = join(cacheDir, "moto-venv");
const marker = join(venvDir, `.permafrost-moto-${MOTO_VERSION}`);
const venvPython = Deno.build.os === "windows"
  ? join(venvDir, "Scripts", "python.exe")
  : join(venvDir, "bin", "python");
const serverScript = join(dirname(fileURLToPath(import.meta.url)), "moto_server.py");

/** A running moto server. */
export interface Moto {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /**
   * Sets (or, with `null`, removes) the state transition of a moto model, e.g.
   * `{ progression: "manual", times: 1 }` for {@link RESTORE_MODEL}.
   */
  setTransition(model: string, transition: Record<string, unknown> | null): Promise<void>;
  /** Stops the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** Kills the server without waiting (for `unload` handlers, which cannot wait). */
  kill(): void;
}

/**
 * Installs moto into {@link venvDir} unless it is there already, and resolves the virtual
 * environment's `python`. Concurrent callers (other test processes) wait on the lock. Rejects
 * with an `Error` saying what to install when Python or its `venv` module is missing.
 */
export async function ensureMoto(): Promise<string> {
  if (await exists(marker)) return venvPython;
  await Deno.mkdir(cacheDir, { recursive: true });
  const lock = await Deno.open(join(cacheDir, "moto-venv.lock"), { write: true, create: true });
  try {
    await lock.lock(true);
    if (await exists(marker)) return venvPython;
    console.error(`installing moto ${MOTO_VERSION} into ${venvDir} (once; about a minute)`);
    await Deno.remove(venvDir, { recursive: true }).catch(() => {});
    await run(
      await systemPython(),
      ["-m", "venv", venvDir],
      "creating a Python virtual environment",
      "on Debian or Ubuntu, `apt-get install python3-venv`",
    );
    await run(
      venvPython,
      [
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        `moto[server]==${MOTO_VERSION}`,
      ],
      `installing moto ${MOTO_VERSION}`,
      "pip needs to reach the Python package index",
    );
    await Deno.writeTextFile(marker, `moto[server]==${MOTO_VERSION}\n`);
    return venvPython;
  } finally {
    lock.close();
  }
}

/**
 * Starts moto on a free loopback port and resolves once it listens. `env` is added to the
 * server's environment (e.g. `INITIAL_NO_AUTH_ACTION_COUNT` for IAM enforcement). Stop it with
 * `stop()` (or `kill()`); if the test process ends first, the server exits with it.
 */
export async function startMoto(options: { env?: Record<string, string> } = {}): Promise<Moto> {
  const python = await ensureMoto();
  const child = new Deno.Command(python, {
    args: [serverScript],
    env: options.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await stdin.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
    })();
  let port: number;
  try {
    port = await readPort(child.stdout);
  } catch (e) {
    child.kill("SIGKILL");
    await child.status;
    throw e;
  }
  // Let the test process exit while moto runs; closing our end of stdin then stops it.
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    async setTransition(model, transition) {
      const action = transition === null ? "unset-transition" : "set-transition";
      const body = transition === null ? { model_name: model } : { model_name: model, transition };
      const res = await fetch(`${endpoint}/moto-api/state-manager/${action}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`moto refused ${action} for "${model}": HTTP ${res.status}`);
    },
    stop,
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

/** Reads the first line moto_server.py prints: its port. */
async function readPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), 60_000);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  const port = Number(text.trim());
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`moto did not start (it printed "${text.trim()}"); see its output above`);
  }
  return port;
}

async function systemPython(): Promise<string> {
  for (const name of ["python3", "python"]) {
    const ok = await new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" })
      .output().then((o) => o.success, () => false);
    if (ok) return name;
  }
  throw new Error("the S3 tests need Python 3 (python3 on PATH) to install moto");
}

async function run(cmd: string, args: string[], what: string, hint: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${what} failed (${hint}):\n${text.trim()}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

if (import.meta.main) {
  await ensureMoto();
}
