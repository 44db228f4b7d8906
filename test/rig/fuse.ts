/**
 * FUSE 3, what `permafrost mount` and its tests need (docs/mount.md): Debian's `fuse3`
 * (`fusermount3`) and `libfuse3-3` (`libfuse3.so.3`), installed with
 * `apt-get update && apt-get install -y fuse3 libfuse3-3` when missing (needs root, or sudo
 * without a password), and the kernel's `/dev/fuse`, which no package can add.
 *
 * `deno task test` runs this module first (`deno run -A test/rig/fuse.ts`), like the moto and
 * Chromium rigs; it never fails the run: where FUSE cannot be had it says why, and
 * `test/mount_test.ts` skips with that reason ({@link fuseMissing}). An exclusive lock on
 * `.cache/fuse.lock` makes parallel test processes wait for one install.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cacheDir = join(root, ".cache");
/** How long one apt-get command may take before the rig gives up on installing. */
const APT_LIMIT_MS = 180_000;

/** Why FUSE cannot be used here, or undefined when it can (nothing is installed). */
export function fuseMissing(): string | undefined {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return `mount needs Linux on x86_64, this is ${Deno.build.os} on ${Deno.build.arch}`;
  }
  if (!existsSync("/dev/fuse")) {
    return "/dev/fuse is missing (a container needs `--device /dev/fuse --cap-add SYS_ADMIN`)";
  }
  if (!onPath("fusermount3")) return "fusermount3 is missing (Debian: apt-get install fuse3)";
  if (!libfuseLoads()) return "libfuse3.so.3 is missing (Debian: apt-get install libfuse3-3)";
  return undefined;
}

/** Installs FUSE 3 when it is missing and can be; resolves why it still cannot be used. */
export async function ensureFuse(): Promise<string | undefined> {
  const missing = fuseMissing();
  if (missing === undefined || !existsSync("/dev/fuse")) return missing;
  await Deno.mkdir(cacheDir, { recursive: true });
  const lock = await Deno.open(join(cacheDir, "fuse.lock"), { write: true, create: true });
  try {
    await lock.lock(true);
    if (fuseMissing() === undefined) return undefined;
    console.error("installing Debian's fuse3 and libfuse3-3 (once)");
    const sudo = Deno.uid?.() === 0 ? [] : ["sudo", "-n"];
    // Bounded where there is no network: one try per mirror, a short connect timeout, and
    // each command stopped after APT_LIMIT_MS at most (the tests then skip, saying why).
    const apt = [...sudo, "apt-get", "-o", "Acquire::Retries=0", "-o", "Acquire::http::Timeout=20"];
    const failure = await run([...apt, "update"]) ??
      await run([...apt, "install", "-y", "fuse3", "libfuse3-3"]);
    const still = fuseMissing();
    if (still !== undefined && failure !== undefined) {
      return `${still}; installing failed: ${failure}`;
    }
    return still;
  } finally {
    lock.close();
  }
}

/** Runs `argv`; undefined when it succeeded, else what went wrong. */
async function run(argv: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(APT_LIMIT_MS),
    }).output();
    if (out.signal !== null) return `${argv.join(" ")}: stopped after ${APT_LIMIT_MS / 1000} s`;
    if (out.success) return undefined;
    return `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`;
  } catch (err) {
    return `${argv.join(" ")} could not start (${(err as Error).message})`;
  }
}

function libfuseLoads(): boolean {
  try {
    Deno.dlopen("libfuse3.so.3", {}).close();
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => d && existsSync(join(d, name)));
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const missing = await ensureFuse();
  if (missing !== undefined) console.error(`FUSE is not usable, mount tests will skip: ${missing}`);
}
