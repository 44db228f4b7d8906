/**
 * Backup and restore of a folder in one process, through the library (no CLI start-up, no
 * KDF cost), printing wall time, CPU time and peak RSS sampled every 100 ms. For finding where
 * time and memory go; `bench.ts` is the end-to-end comparison with restic.
 *
 *   deno run --allow-all bench/inprocess.ts DIR [--pack-size MiB] [--engine NAME]...
 *
 * Each engine (default: dedup, then worm) backs up into a repository of its own: first backup,
 * no-change backup, full restore.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import { backup } from "../host/ops/backup.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { executeRestore } from "../host/ops/restore.ts";

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { "pack-size": { type: "string" }, engine: { type: "string", multiple: true } },
});
const source = positionals[0];
if (!source) {
  console.error("usage: deno run --allow-all bench/inprocess.ts DIR [--pack-size MiB]");
  Deno.exit(2);
}

let peak = 0;
const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 100);
const cpu = () => {
  const [user, system] = Deno.readTextFileSync("/proc/self/stat").split(" ").slice(13, 15).map(
    Number,
  );
  return (user + system) / 100; // clock ticks (USER_HZ = 100 on Linux)
};

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  peak = Deno.memoryUsage().rss;
  const t = performance.now();
  const c = cpu();
  const out = await run();
  console.log(
    `${name.padEnd(22)} ${((performance.now() - t) / 1000).toFixed(2).padStart(7)} s wall ${
      (cpu() - c).toFixed(2).padStart(6)
    } s cpu  peak RSS ${(peak / 2 ** 20).toFixed(0).padStart(5)} MiB`,
  );
  return out;
}

const engines = values.engine ?? ["dedup", "worm"];
try {
  for (const engine of engines) await run(engine);
} finally {
  clearInterval(sampler);
}

async function run(engine: string): Promise<void> {
  const repoDir = await Deno.makeTempDir({ prefix: "pf-inprocess-repo-" });
  const target = await Deno.makeTempDir({ prefix: "pf-inprocess-restore-" });
  try {
    const storage = await openStorage(repoDir, "admin", { create: true });
    const packSize = values["pack-size"] ? Number(values["pack-size"]) << 20 : undefined;
    const repo = await Repository.init(storage, "bench", {
      kdf: { opslimit: 1, memlimit: 8 << 20 },
      config: packSize ? { pack: { dataSize: packSize } } : {},
    });
    const cacheDir = await Deno.makeTempDir({ prefix: "pf-inprocess-cache-" });
    const first = await step(
      `${engine} first backup`,
      () => backup(repo, { paths: [source], cacheDir, engine }),
    );
    const mib = first.manifest.stats.bytes / 2 ** 20;
    console.log(`${"".padEnd(22)} ${mib.toFixed(0)} MiB, ${first.manifest.stats.files} files`);
    await step(`${engine} no-change`, () => backup(repo, { paths: [source], cacheDir, engine }));
    await step(`${engine} full restore`, async () => {
      const snap = await repo.snapshot("latest");
      const plan = await planRestore(repo, snap.id, snap.manifest.root);
      return await executeRestore(repo, plan, { target });
    });
    await repo.storage.close();
  } finally {
    await Deno.remove(repoDir, { recursive: true });
    await Deno.remove(target, { recursive: true });
  }
}
