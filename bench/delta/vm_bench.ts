/**
 * `deno task bench --vm-image GIB` (or `deno run -A bench/delta/vm_bench.ts [GIB]`): the
 * `vm-delta` engine's throughput beside `dedup`'s on a generated VM image (`vm_image.ts`: an
 * ext4 file system made from /usr/share). For each engine, through the real CLI on a local
 * repository: the first backup, a second backup after one version's small writes, and a full
 * restore of the newest snapshot, each with wall time, MB/s of image bytes (10^6 bytes per
 * second) and peak RSS (bench/measure.ts); then the restore's byte-identity and the bytes it
 * allocated (a sparse image stays sparse).
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { measure } from "../measure.ts";
import { fmtBytes } from "../report.ts";
import { buildImage, churnImage } from "./vm_image.ts";

/** One engine's runs. */
export interface VmBenchRow {
  engine: string;
  steps: { step: string; seconds: number; mbPerSec: number; peakRssBytes: number }[];
  storedBytes: number;
  identical: boolean;
  allocatedBytes: number;
}

/** Runs the bench on an image of `gib` GiB under `work`; prints and returns the rows. */
export async function vmBench(
  gib = 2,
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pf-vm-bench-")),
  log = (s: string) => console.error(s),
): Promise<VmBenchRow[]> {
  log(`building a ${gib} GiB ext4 image of /usr/share in ${work} ...`);
  const img = buildImage(path.join(work, "src", "disk.img"), work, "/usr/share", gib * 1024 ** 3);
  const src = path.dirname(img.path);
  const size = fs.statSync(img.path).size;
  const main = new URL("../../host/cli/main.ts", import.meta.url).pathname;
  const engines = ["dedup", "vm-delta"];
  const rows: VmBenchRow[] = engines.map((engine) => ({
    engine,
    steps: [],
    storedBytes: 0,
    identical: false,
    allocatedBytes: 0,
  }));
  const cli = async (engine: string, args: string[]) => {
    const m = await measure({
      cmd: Deno.execPath(),
      args: ["run", "-A", "--quiet", "--v8-flags=--max-semi-space-size=8", main, ...args],
      env: {
        ...Deno.env.toObject(),
        PERMAFROST_REPO: path.join(work, `repo-${engine}`),
        PERMAFROST_PASSWORD: "vm-bench",
        PERMAFROST_CACHE_DIR: path.join(work, `cache-${engine}`),
        PERMAFROST_STATE_DIR: path.join(work, `state-${engine}`),
        NO_COLOR: "1",
      },
    });
    if (m.code !== 0) throw new Error(`permafrost ${args.join(" ")}: ${m.stderr}`);
    return m;
  };
  const step = (row: VmBenchRow, name: string, m: { seconds: number; peakRssBytes: number }) => {
    row.steps.push({
      step: name,
      seconds: m.seconds,
      mbPerSec: size / m.seconds / 1e6,
      peakRssBytes: m.peakRssBytes,
    });
    log(`  ${row.engine} ${name}: ${m.seconds.toFixed(1)} s`);
  };
  for (const row of rows) await cli(row.engine, ["init", "--kdf-memlimit", "8MiB"]);
  for (const row of rows) {
    step(row, "first backup", await cli(row.engine, ["backup", "--engine", row.engine, src]));
  }
  churnImage(img, 1);
  const newest = fs.readFileSync(img.path);
  for (const row of rows) {
    const m = await cli(row.engine, ["backup", "--engine", row.engine, src, "--json"]);
    step(row, "second backup", m);
    row.storedBytes = JSON.parse(m.stdout).stats.storedBytes;
  }
  for (const row of rows) {
    const target = path.join(work, `restore-${row.engine}`);
    step(row, "restore", await cli(row.engine, ["restore", "latest", "--target", target]));
    const restored = path.join(target, "src", "disk.img");
    row.identical = fs.readFileSync(restored).equals(newest);
    row.allocatedBytes = Deno.statSync(restored).blocks! * 512;
    fs.rmSync(target, { recursive: true });
  }
  fs.rmSync(work, { recursive: true, force: true });
  console.log(render(rows, size));
  return rows;
}

function render(rows: VmBenchRow[], size: number): string {
  const lines = [
    `VM image: ${fmtBytes(size)} (ext4 of /usr/share); MB/s of image bytes, peak RSS`,
    "",
    "| engine | first backup | second backup (stored) | restore | restore identical, allocated |",
    "|---|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const s = (name: string) => {
      const x = r.steps.find((t) => t.step === name)!;
      return `${x.seconds.toFixed(1)} s, ${x.mbPerSec.toFixed(0)} MB/s, ${
        fmtBytes(x.peakRssBytes)
      }`;
    };
    lines.push(
      `| ${r.engine} | ${s("first backup")} | ${s("second backup")} (${
        fmtBytes(r.storedBytes)
      }) | ` +
        `${s("restore")} | ${r.identical ? "yes" : "NO"}, ${fmtBytes(r.allocatedBytes)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) await vmBench(Number(Deno.args[0] ?? 2));
