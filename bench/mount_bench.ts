/**
 * `deno task bench:mount [--mib N] [--work DIR] [--keep]`: how fast a file reads through
 * `permafrost mount` from a local repository (issue #17: target at least 200 MB/s).
 *
 * Backs up one file of N MiB (default 1024) of random bytes (incompressible: zstd stores it as
 * is, so nothing is saved on reading) into a new local repository, mounts it with the CLI
 * (`permafrost mount`, a subprocess), `cat`s the file from the mount to /dev/null, timing it,
 * then `cmp`s it against the source and unmounts. Prints MB/s (10^6 bytes per second) of the
 * `cat`, and of the backup for scale. Needs FUSE (`test/rig/fuse.ts` installs it).
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    mib: { type: "string", default: "1024" },
    work: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const mib = Number(args.values.mib);
if (!Number.isInteger(mib) || mib <= 0) {
  console.error(`--mib must be a whole number of MiB, not "${args.values.mib}"`);
  Deno.exit(2);
}
const work = await Deno.makeTempDir({ dir: args.values.work, prefix: "pf-mount-bench-" });
const main = new URL("../host/cli/main.ts", import.meta.url).pathname;
const env = {
  PERMAFROST_PASSWORD: "mount bench",
  PERMAFROST_REPO: join(work, "repo"),
  PERMAFROST_CACHE_DIR: join(work, "cache"),
  PERMAFROST_STATE_DIR: join(work, "state"),
  NO_COLOR: "1",
};

function permafrost(...argv: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", main, ...argv],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(cmd: Deno.Command, what: string): Promise<number> {
  const started = performance.now();
  const out = await cmd.output();
  if (!out.success) {
    throw new Error(`${what} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return (performance.now() - started) / 1000;
}

/** Writes `mib` MiB of random bytes to `path`, 1 MiB at a time. */
async function writeRandom(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let at = 0; at < block.length; at += 65536) {
      crypto.getRandomValues(block.subarray(at, at + 65536));
    }
    let written = 0;
    while (written < block.length) written += await file.write(block.subarray(written));
  }
  file.close();
}

/** Starts `permafrost mount` at `dir` and resolves once it says it is mounted. */
async function mount(dir: string): Promise<Deno.ChildProcess> {
  const child = permafrost("mount", dir).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("mounted read-only")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`mount ended before mounting: ${seen}`);
    seen += value;
  }
  lines.releaseLock();
  child.stderr.cancel().catch(() => {});
  return child;
}

const bytes = mib * (1 << 20);
const src = join(work, "src");
const dir = join(work, "mnt");
await Deno.mkdir(src);
await Deno.mkdir(dir);
try {
  await writeRandom(join(src, "big.bin"));
  await run(permafrost("init", "--kdf-memlimit", "8MiB"), "init");
  const backupSeconds = await run(permafrost("backup", src), "backup");
  const child = await mount(dir);
  try {
    const file = join(dir, "latest", "src", "big.bin");
    const cat = new Deno.Command("cat", { args: [file], stdout: "null", stderr: "piped" });
    const catSeconds = await run(cat, "cat");
    const same = (await new Deno.Command("cmp", { args: [file, join(src, "big.bin")] }).output())
      .success;
    const mbps = (s: number) => (bytes / 1e6 / s).toFixed(0);
    console.log(`file:    ${mib} MiB of random bytes`);
    console.log(`backup:  ${backupSeconds.toFixed(2)} s, ${mbps(backupSeconds)} MB/s`);
    console.log(`cat:     ${catSeconds.toFixed(2)} s, ${mbps(catSeconds)} MB/s (target 200)`);
    console.log(`cmp:     ${same ? "identical" : "DIFFERENT"}`);
    if (!same) Deno.exitCode = 1;
  } finally {
    await run(permafrost("umount", dir), "umount");
    await child.status;
  }
} finally {
  if (!args.values.keep) await Deno.remove(work, { recursive: true });
  else console.log(`kept ${work}`);
}
