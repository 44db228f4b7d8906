/**
 * `deno task bench:delta` (`deno run -A bench/delta/eval.ts [options]`): the delta-vs-dedup
 * evaluation of docs/delta-vs-dedup.md. Generates a data set (a churned home folder,
 * `home.ts`, or a churned ext4 VM image, `vm_image.ts`), backs up each of its versions with
 * every candidate (`candidates.ts`: FastCDC dedup, fixed-size blocks with zero holes, an
 * rdiff-style signature delta with and without rebasing), and prints, per candidate: bytes
 * stored, objects written, PUT and monthly storage cost in DEEP_ARCHIVE (the project's cost
 * model, host/cost/), CPU seconds to back up, the local state it keeps, and for the restore of
 * the newest version and of version 15: packs and bytes thawed, dollars and hours per Deep
 * Archive tier, and the delta chain replayed.
 *
 * With `--real ENGINES` it also backs up every version with the real CLI into a real local
 * repository per engine (default packs), under /usr/bin/time (wall, CPU, peak RSS), and plans
 * the same two restores from the repository (data packs only).
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { parseArgs } from "node:util";
import { type Candidate, ChunkStore, type FileVersion, RdiffStore } from "./candidates.ts";
import { churnHome, homeSpec, listFiles, writeHome } from "./home.ts";
import { buildImage, churnImage } from "./vm_image.ts";
import { shippedPriceTable } from "../../host/cost/price_table.ts";
import { archiveOverheadItems, putItems, storageItems } from "../../host/cost/store_cost.ts";
import { estimateRestore } from "../../host/cost/restore_cost.ts";
import { defaultAssumptions } from "../../host/cost/assumptions.ts";
import { toGB } from "../../host/cost/estimate.ts";
import { fmtBytes } from "../report.ts";

const USAGE = `Usage: deno run -A bench/delta/eval.ts [options]

Options:
  --data home|vm     the data set (default home)
  --versions N       versions after the first (default 30)
  --home-scale F     size of the home folder (default 1: about 200 MB)
  --vm-source DIR    folder copied into the image (default /usr/share)
  --vm-gib N         image size in GiB (default 2)
  --block N          rdiff block size in bytes (default 4096)
  --fixed LIST       fixed block sizes in bytes, comma-separated (default 65536,1048576)
  --no-cdc           leave out the FastCDC model
  --no-rdiff         leave out the rdiff models
  --real LIST        also back up with the real CLI: engines, comma-separated (e.g. dedup,vm-delta)
  --work DIR         where the data and repositories go (default a new temp dir)
  --json FILE        also write the results as JSON
  -h, --help         this help`;

const table = shippedPriceTable("us-east-1");
const RESTORED = [15];
const READ = 4 << 20;

interface Row {
  name: string;
  storedBytes: number;
  dataPacks: number;
  cpuSeconds: number;
  stateBytes: number;
  restores: Record<number, { packs: number; bytes: number; chain: number }>;
  /** Real runs only. */
  peakRssBytes?: number;
  wallSeconds?: number;
}

/** The parsed command line. */
interface Options {
  data: string;
  versions: string;
  "home-scale": string;
  "vm-source": string;
  "vm-gib": string;
  block: string;
  fixed: string;
  "no-cdc"?: boolean;
  "no-rdiff"?: boolean;
  real: string;
  work?: string;
  json?: string;
}

function main(): Promise<number> | number {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string", default: "home" },
      versions: { type: "string", default: "30" },
      "home-scale": { type: "string", default: "1" },
      "vm-source": { type: "string", default: "/usr/share" },
      "vm-gib": { type: "string", default: "2" },
      block: { type: "string", default: "4096" },
      fixed: { type: "string", default: "65536,1048576" },
      "no-cdc": { type: "boolean" },
      "no-rdiff": { type: "boolean" },
      real: { type: "string", default: "" },
      work: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  return run(values as Options);
}

async function run(o: Options): Promise<number> {
  const versions = Number(o.versions);
  const work = o.work ?? fs.mkdtempSync(path.join(os.tmpdir(), "pf-delta-"));
  fs.mkdirSync(work, { recursive: true });
  const block = Number(o.block);
  const rdiff = new RdiffStore(`rdiff ${block / 1024} KiB, no rebase`, block, Infinity);
  const kib = (n: number) => n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`;
  const candidates: Candidate[] = [
    ...o["no-cdc"] ? [] : [new ChunkStore("dedup (FastCDC 256K/1M/4M)", "fastcdc", false)],
    ...o.fixed.split(",").map(Number).map((n) =>
      new ChunkStore(`fixed ${kib(n)}, zero holes`, n, true)
    ),
    ...o["no-rdiff"] ? [] : [
      rdiff,
      // The same scan as `rdiff` (its CPU is counted there); it only stores differently.
      new RdiffStore(`rdiff ${block / 1024} KiB, rebase every 10`, block, 10, rdiff),
    ],
  ];
  const cpu = new Map(candidates.map((c) => [c, 0]));
  let readSeconds = 0;
  const log = (s: string) => console.error(s);

  // The data set and its churn.
  let root: string;
  let churn: (v: number) => unknown;
  let describe: string;
  if (o.data === "home") {
    root = path.join(work, "home");
    const spec = homeSpec(Number(o["home-scale"]));
    writeHome(root, spec);
    churn = (v) => churnHome(root, v);
    describe = `home folder, scale ${o["home-scale"]}`;
  } else if (o.data === "vm") {
    const img = buildImage(
      path.join(work, "vm", "disk.img"),
      path.join(work, "vm"),
      o["vm-source"],
      Number(o["vm-gib"]) * 1024 ** 3,
    );
    root = path.dirname(img.path);
    churn = (v) => churnImage(img, v);
    describe = `ext4 image of ${o["vm-source"]}, ${o["vm-gib"]} GiB`;
    // Only the image is backed up: move the staging tree out of the way.
    root = path.join(work, "vm-src");
    fs.mkdirSync(root, { recursive: true });
    fs.renameSync(img.path, path.join(root, "disk.img"));
    img.path = path.join(root, "disk.img");
  } else {
    console.error(`--data must be home or vm, not "${o.data}"`);
    return 2;
  }

  const stats = new Map<string, string>();
  const current = candidates.map(() => new Map<string, FileVersion>());
  const kept: Map<number, Map<string, FileVersion>[]> = new Map();
  const buf = new Uint8Array(READ);
  const realEngines = o.real ? o.real.split(",") : [];
  const real = realEngines.map((e) => ({ engine: e, ...realRepo(work, e) }));
  const dataBytes: number[] = [];

  for (let v = 0; v <= versions; v++) {
    if (v > 0) log(`version ${v}: ${JSON.stringify(churn(v))}`);
    // The real repositories back up this version while the models read it.
    const realRuns = Promise.all(real.map((r) => r.backup(root, v)));
    const files = o.data === "home" ? listFiles(root) : ["disk.img"];
    const seen = new Set(files);
    let bytes = 0;
    for (const rel of files) {
      const abs = path.join(root, rel);
      const st = fs.statSync(abs);
      bytes += st.size;
      const key = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
      if (stats.get(rel) === key) {
        candidates.forEach((c, i) => current[i].set(rel, c.unchanged(rel, current[i].get(rel)!)));
        continue;
      }
      stats.set(rel, key);
      const writers = candidates.map((c, i) => c.file(rel, current[i].get(rel)));
      const fd = fs.openSync(abs, "r");
      for (;;) {
        const t0 = performance.now();
        const n = fs.readSync(fd, buf, 0, READ, null);
        readSeconds += (performance.now() - t0) / 1000;
        if (n === 0) break;
        const piece = buf.subarray(0, n);
        candidates.forEach((c, i) => {
          const u = process.cpuUsage();
          writers[i].push(piece);
          const d = process.cpuUsage(u);
          cpu.set(c, cpu.get(c)! + (d.user + d.system) / 1e6);
        });
      }
      fs.closeSync(fd);
      candidates.forEach((c, i) => {
        const u = process.cpuUsage();
        current[i].set(rel, writers[i].finish());
        const d = process.cpuUsage(u);
        cpu.set(c, cpu.get(c)! + (d.user + d.system) / 1e6);
      });
    }
    for (const rel of [...stats.keys()]) {
      if (seen.has(rel)) continue;
      stats.delete(rel);
      candidates.forEach((c, i) => {
        c.forget(rel);
        current[i].delete(rel);
      });
    }
    for (const c of candidates) c.packs.endRun();
    dataBytes.push(bytes);
    if (RESTORED.includes(v) || v === versions) kept.set(v, current.map((m) => new Map(m)));
    const t0 = performance.now();
    await realRuns;
    log(`  real runs ended ${((performance.now() - t0) / 1000).toFixed(0)} s after the models`);
    log(
      `  v${v}: ${fmtBytes(bytes)}; ` +
        candidates.map((c) => `${c.name}: ${fmtBytes(c.storedBytes)}`).join("; "),
    );
  }

  const restoreAt = [...RESTORED.filter((v) => v < versions), versions];
  const rows: Row[] = candidates.map((c, i) => {
    const restores: Row["restores"] = {};
    for (const v of restoreAt) {
      const files = kept.get(v)![i];
      const packs = new Set<number>();
      let chain = 0;
      for (const f of files.values()) {
        for (const k of f.needs) packs.add(c.where.get(k)!);
        chain = Math.max(chain, f.chain);
      }
      let bytes = 0;
      for (const p of packs) bytes += c.packs.sizes[p];
      restores[v] = { packs: packs.size, bytes, chain };
    }
    return {
      name: c.name,
      storedBytes: c.storedBytes,
      dataPacks: c.packs.sizes.length,
      cpuSeconds: cpu.get(c)!,
      stateBytes: c.stateBytes(),
      restores,
    };
  });
  for (const r of real) rows.push(await r.result(restoreAt));

  const runs = versions + 1;
  const out = render(describe, dataBytes, runs, rows, restoreAt, readSeconds);
  console.log(out);
  if (o.json) {
    fs.writeFileSync(o.json, JSON.stringify({ describe, dataBytes, runs, rows }, null, 2));
  }
  if (!o.work) fs.rmSync(work, { recursive: true, force: true });
  return 0;
}

/** Dollars of a DEEP_ARCHIVE store: a month of storage, and the PUTs of writing it. */
function storeCosts(bytes: number, packs: number, runs: number) {
  const gb = toGB(bytes, table);
  const month = [
    ...storageItems(gb, 1, "DEEP_ARCHIVE", table),
    ...archiveOverheadItems(packs, 1, "DEEP_ARCHIVE", table),
  ].reduce((s, i) => s + i.usd, 0);
  // Data packs to DEEP_ARCHIVE; per run a metadata pack, an index segment and a manifest hot.
  const puts = [
    ...putItems(packs, packs ? bytes / packs : 0, "DEEP_ARCHIVE", table, defaultAssumptions.upload),
    ...putItems(runs * 3, 1 << 20, "STANDARD", table, defaultAssumptions.upload),
  ].reduce((s, i) => s + i.usd, 0);
  return { month, puts };
}

function restoreCost(bytes: number, packs: number, tier: "standard" | "bulk") {
  const e = estimateRestore(
    { storageClass: "DEEP_ARCHIVE", bytes, objects: packs, tier, days: 1, to: "internet" },
    table,
  );
  return { usd: e.total_usd, hours: e.hours };
}

function usd(x: number): string {
  return x < 0.01 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`;
}

function render(
  describe: string,
  dataBytes: number[],
  runs: number,
  rows: Row[],
  restoreAt: number[],
  readSeconds: number,
): string {
  const lines: string[] = [];
  const total = dataBytes.reduce((a, b) => a + b, 0);
  lines.push(
    `Data: ${describe}; ${runs} versions, ${fmtBytes(dataBytes[0])} first, ` +
      `${fmtBytes(dataBytes[dataBytes.length - 1])} last, ${fmtBytes(total)} backed up in all; ` +
      `reading it took ${readSeconds.toFixed(1)} s (not counted below). Prices: us-east-1 ` +
      `${table.date}, DEEP_ARCHIVE.`,
    "",
    "| candidate | stored | data packs | PUTs $ | storage $/month | CPU s (all runs) | local state | peak RSS |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of rows) {
    const c = storeCosts(r.storedBytes, r.dataPacks, runs);
    lines.push(
      `| ${r.name} | ${fmtBytes(r.storedBytes)} | ${r.dataPacks} | ${usd(c.puts)} | ` +
        `${usd(c.month)} | ${r.cpuSeconds.toFixed(1)} | ${fmtBytes(r.stateBytes)} | ` +
        `${r.peakRssBytes ? fmtBytes(r.peakRssBytes) : "-"} |`,
    );
  }
  for (const v of restoreAt) {
    lines.push(
      "",
      `Restore of version ${v} (${fmtBytes(dataBytes[v])}):`,
      "",
      "| candidate | packs thawed | bytes thawed | chain | Standard $ | Standard hours | Bulk $ | Bulk hours |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const r of rows) {
      const x = r.restores[v];
      const s = restoreCost(x.bytes, x.packs, "standard");
      const b = restoreCost(x.bytes, x.packs, "bulk");
      const h = (t: { min: number; max: number }) => `${t.min.toFixed(1)}-${t.max.toFixed(1)}`;
      lines.push(
        `| ${r.name} | ${x.packs} | ${fmtBytes(x.bytes)} | ${x.chain} | ${usd(s.usd)} | ` +
          `${h(s.hours)} | ${usd(b.usd)} | ${h(b.hours)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** A real repository backed up by the CLI with `engine`, one run per version. */
function realRepo(work: string, engine: string) {
  const dir = path.join(work, `repo-${engine}`);
  const env = {
    PERMAFROST_REPO: dir,
    PERMAFROST_PASSWORD: "delta-eval",
    PERMAFROST_CACHE_DIR: path.join(work, `cache-${engine}`),
    PERMAFROST_STATE_DIR: path.join(work, `state-${engine}`),
    NO_COLOR: "1",
  };
  const main = new URL("../../host/cli/main.ts", import.meta.url).pathname;
  // Spawned at once (before the caller's next await), so a backup runs beside the models.
  const cli = async (args: string[]) => {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "TIME %e %U %S %M", Deno.execPath(), "run", "-A", "--quiet", main, ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn().output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`permafrost ${args.join(" ")} failed: ${stderr}`);
    const t = stderr.match(/TIME (\S+) (\S+) (\S+) (\d+)/)!;
    return {
      stdout: new TextDecoder().decode(out.stdout),
      wall: Number(t[1]),
      cpu: Number(t[2]) + Number(t[3]),
      rss: Number(t[4]) * 1024,
    };
  };
  const init = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, "init", "--kdf-memlimit", "8MiB"],
    env,
  }).outputSync();
  if (!init.success) throw new Error(`permafrost init: ${new TextDecoder().decode(init.stderr)}`);
  const snaps: string[] = [];
  let cpu = 0, wall = 0, rss = 0;
  return {
    async backup(root: string, _v: number) {
      const r = await cli(["backup", "--engine", engine, root, "--json"]);
      snaps.push(JSON.parse(r.stdout).snapshot);
      cpu += r.cpu;
      wall += r.wall;
      rss = Math.max(rss, r.rss);
    },
    async result(restoreAt: number[]): Promise<Row> {
      const { openStorage } = await import("../../host/storage/open.ts");
      const { Repository } = await import("../../host/repository/repository.ts");
      const { planRestore } = await import("../../host/ops/restore_plan.ts");
      const repo = await Repository.open(await openStorage(dir, "admin"), {
        passphrase: env.PERMAFROST_PASSWORD,
      });
      try {
        await repo.loadIndex();
        let storedBytes = 0, dataPacks = 0;
        for (const p of repo.index.packs()) {
          if (p.metadata) continue;
          storedBytes += p.length;
          dataPacks++;
        }
        const restores: Row["restores"] = {};
        for (const v of restoreAt) {
          const snap = await repo.snapshot(snaps[v]);
          const plan = await planRestore(repo, snap.id, snap.manifest.root);
          const data = plan.packs.filter((p) => !p.metadata);
          restores[v] = {
            packs: data.length,
            bytes: data.reduce((s, p) => s + p.length, 0),
            chain: 0,
          };
        }
        return {
          name: `real repository, --engine ${engine}`,
          storedBytes,
          dataPacks,
          cpuSeconds: cpu,
          wallSeconds: wall,
          stateBytes: dirBytes(env.PERMAFROST_CACHE_DIR),
          peakRssBytes: rss,
          restores,
        };
      } finally {
        await repo.storage.close();
      }
    },
  };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

if (import.meta.main) Deno.exit(await main());
