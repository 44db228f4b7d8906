/**
 * `deno task bench [DIR]`: end-to-end benchmark of Permafrost against restic, rustic and kopia
 * (docs/bench.md); the peers are installed at pinned versions by the bench itself (peers.ts).
 *
 * Runs each tool as a subprocess over the same tree (a generated corpus, or DIR): init, a first
 * backup, a second backup with no change, and a full restore of the latest snapshot, measuring
 * wall time (as MB/s of corpus bytes) and peak RSS of each step, the repository size, and
 * whether the restore is byte-identical (run_tool.ts). Permafrost runs twice: on a local
 * repository, and on S3 served by moto on loopback (s3_run.ts, possibly on a smaller corpus).
 * For both it reports the restore amplification of each top-level directory
 * (amplification.ts). Prints a table (or JSON with `--json`) with the permafrost/peer ratios,
 * and the FastCDC chunker's throughput at the top (report.ts). With `--rounds N` the tools run
 * N times, alternating their order, and the ratios are the medians of each round's own ratios.
 * `--corpus real` copies the system's headers and shared data (corpus_real.ts); `--corpus
 * million` generates 1,000 folders of 1,000 small files (corpus_million.ts) and adds the probe
 * steps: ls of one folder, find of one name, restore of one file.
 *
 * Exit code: 0 when every step that could start succeeded (a tool that is not available is
 * reported, not a failure), 1 when a step failed after its repository was created or a restore
 * was not identical, 2 for bad arguments.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chunkerThroughput } from "./chunker_bench.ts";
import { type CorpusInfo, corpusSpec, ensureCorpus, measureTree } from "./corpus.ts";
import { ensureMillion, MILLION } from "./corpus_million.ts";
import { ensureReal } from "./corpus_real.ts";
import { defaultCacheRoot, describePeer, ensurePeers, type Peer, type PeerName } from "./peers.ts";
import {
  type BenchReport,
  type BenchRound,
  fmtBytes,
  medianRatios,
  ratios,
  render,
} from "./report.ts";
import { runTool, type ToolResult } from "./run_tool.ts";
import { permafrostS3Tool } from "./s3_run.ts";
import { type BenchTool, kopiaTool, permafrostTool, resticTool, rusticTool } from "./tools.ts";
import { vmBench } from "./delta/vm_bench.ts";

const USAGE = `Usage: deno task bench [options] [DIR]

Benchmarks permafrost (on a local repository, and on S3 served by moto on loopback), restic,
rustic and kopia (installed at pinned versions on first use: deno task bench:peers) on DIR or
on a corpus.

Options:
  --corpus KIND    generated (default), real (a copy of /usr/include and /usr/share, about
                   690 MB and 51,000 files on Debian 12) or million (1,000 folders of 1,000 small files;
                   adds ls of one folder, find of one name and restore of one file)
  --folders N      folders in the million corpus (default 1000)
  --per-folder N   files per folder in the million corpus (default 1000)
  --files N        small files in the generated corpus (default 40000 x scale)
  --scale F        scale the generated corpus (default 1: about 800 MB)
  --s3-scale F     run permafrost-s3 on a corpus of this scale instead (default: the same
                   corpus as the other tools; not with DIR)
  --cache DIR      where corpora and the peers' binaries (tools/) are kept
                   (default ~/.cache/permafrost-bench)
  --tools LIST     comma-separated: permafrost,restic,rustic,kopia,permafrost-s3,
                   permafrost-worm,permafrost-sync (default all; the last two: the worm and
                   sync engines' backup throughput beside dedup's, on a local repository)
  --no-install     do not install missing peers (report them as not available)
  --rounds N       run the tools N times, in the order given and then reversed in turn, and
                   report each round and the median of the rounds' ratios (default 1)
  --no-amplification  skip the restore-amplification dry runs
  --chunker-mib N  MiB for the chunker microbenchmark (default 128; 0 skips it)
  --vm-image GIB   instead: the vm-delta engine's throughput beside dedup's on a generated
                   ext4 image of GIB GiB (bench/delta/vm_bench.ts)
  --work DIR       where temporary repositories and restores go (default the system temp dir)
  --keep           keep the temporary repositories and restores
  --json           print JSON instead of the table
  -h, --help       show this help`;

const TOOL_NAMES = [
  "permafrost",
  "restic",
  "rustic",
  "kopia",
  "permafrost-s3",
  "permafrost-worm",
  "permafrost-sync",
];
const CORPORA = ["generated", "real", "million"];

function log(s: string): void {
  console.error(s);
}

async function main(): Promise<number> {
  const loadAtStart = os.loadavg();
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        corpus: { type: "string", default: "generated" },
        folders: { type: "string", default: String(MILLION.folders) },
        "per-folder": { type: "string", default: String(MILLION.perFolder) },
        "no-install": { type: "boolean", default: false },
        files: { type: "string" },
        scale: { type: "string", default: "1" },
        "s3-scale": { type: "string" },
        cache: { type: "string" },
        tools: { type: "string", default: TOOL_NAMES.join(",") },
        rounds: { type: "string", default: "1" },
        "no-amplification": { type: "boolean", default: false },
        "chunker-mib": { type: "string", default: "128" },
        "vm-image": { type: "string" },
        work: { type: "string", default: os.tmpdir() },
        keep: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n\n${USAGE}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (o["vm-image"] !== undefined) {
    const gib = Number(o["vm-image"]);
    if (!(gib > 0)) {
      console.error(`invalid --vm-image\n\n${USAGE}`);
      return 2;
    }
    await vmBench(gib, undefined, log);
    return 0;
  }
  const scale = Number(o.scale), files = o.files === undefined ? undefined : Number(o.files);
  const s3Scale = o["s3-scale"] === undefined ? undefined : Number(o["s3-scale"]);
  const chunkerMib = Number(o["chunker-mib"]);
  const rounds = Number(o.rounds);
  const folders = Number(o.folders), perFolder = Number(o["per-folder"]);
  const count = (n: number) => Number.isInteger(n) && n >= 1;
  const bad = !(scale > 0)
    ? "--scale"
    : !CORPORA.includes(o.corpus)
    ? `--corpus (one of ${CORPORA.join(", ")})`
    : !count(folders)
    ? "--folders"
    : !count(perFolder)
    ? "--per-folder"
    : o.corpus !== "generated" && positionals.length > 0
    ? "--corpus (DIR replaces it)"
    : !(Number.isInteger(rounds) && rounds >= 1)
    ? "--rounds"
    : files !== undefined && !(files >= 0 && Number.isInteger(files))
    ? "--files"
    : s3Scale !== undefined && !(s3Scale > 0)
    ? "--s3-scale"
    : !(chunkerMib >= 0)
    ? "--chunker-mib"
    : positionals.length > 1
    ? "DIR (only one)"
    : s3Scale !== undefined && positionals.length > 0
    ? "--s3-scale (it scales the generated corpus, and DIR replaces it)"
    : undefined;
  if (bad) {
    console.error(`invalid ${bad}\n\n${USAGE}`);
    return 2;
  }
  const toolNames = o.tools.split(",").map((s) => s.trim()).filter(Boolean);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const cacheRoot = o.cache ?? defaultCacheRoot();
  const peerNames = toolNames.filter((n): n is PeerName =>
    n === "restic" || n === "rustic" || n === "kopia"
  );
  let peers = new Map<PeerName, Peer>();
  /** A peer's tool; a peer that is not installed runs as a tool that reports why. */
  const peer = (name: PeerName, make: (binary: string) => BenchTool): BenchTool => {
    const p = peers.get(name)!;
    return p.binary
      ? make(p.binary)
      : { ...make(name), unavailable: () => Promise.resolve(p.reason) };
  };
  const known: Record<string, () => BenchTool> = {
    permafrost: () => permafrostTool(root),
    restic: () => peer("restic", resticTool),
    rustic: () => peer("rustic", rusticTool),
    kopia: () => peer("kopia", kopiaTool),
    "permafrost-s3": () => permafrostS3Tool(root),
    "permafrost-worm": () => permafrostTool(root, "worm"),
    "permafrost-sync": () => permafrostTool(root, "sync"),
  };
  const unknown = toolNames.find((n) => !known[n]);
  if (unknown) {
    console.error(`unknown tool "${unknown}" (known: ${TOOL_NAMES.join(", ")})\n\n${USAGE}`);
    return 2;
  }
  if (peerNames.length > 0) {
    peers = await ensurePeers(peerNames, path.join(cacheRoot, "tools"), {
      install: !o["no-install"],
      log,
    });
    for (const p of peers.values()) log(describePeer(p));
  }

  let chunker = null;
  if (chunkerMib > 0) {
    log(`chunker microbenchmark (${chunkerMib} MiB) ...`);
    chunker = chunkerThroughput(chunkerMib, 4);
  }

  const generated = (f: number, n?: number) => {
    const c = ensureCorpus(cacheRoot, corpusSpec(f, n), log);
    log(`corpus: ${c.dir}: ${c.files} files, ${fmtBytes(c.bytes)}`);
    return c;
  };
  let corpus: CorpusInfo | null = null;
  const needsMain = toolNames.some((n) => n !== "permafrost-s3" || s3Scale === undefined);
  if (positionals.length === 1) {
    const dir = path.resolve(positionals[0]);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      console.error(`"${dir}" is not a directory`);
      return 2;
    }
    corpus = measureTree(dir);
    log(`corpus: ${corpus.dir}: ${corpus.files} files, ${fmtBytes(corpus.bytes)}`);
  } else if (needsMain && o.corpus === "real") {
    corpus = ensureReal(cacheRoot, undefined, log);
    log(`corpus: ${corpus.dir}: ${corpus.files} files, ${fmtBytes(corpus.bytes)}`);
  } else if (needsMain && o.corpus === "million") {
    corpus = await ensureMillion(cacheRoot, { folders, perFolder }, log);
    log(
      `corpus: ${corpus.dir}: ${corpus.files} files, ${fmtBytes(corpus.bytes)}` +
        (corpus.generatedSeconds ? ` (generated in ${corpus.generatedSeconds.toFixed(1)} s)` : ""),
    );
  } else if (needsMain) corpus = generated(scale, files);
  const s3Corpus = s3Scale === undefined || !toolNames.includes("permafrost-s3")
    ? corpus!
    : generated(s3Scale);

  const runRound = async (order: string[], amplification: boolean): Promise<BenchRound> => {
    const loadStart = os.loadavg();
    const tools: ToolResult[] = [];
    for (const name of order) {
      const c = name === "permafrost-s3" ? s3Corpus : corpus!;
      const r = await runTool(known[name](), c, o.work, { keep: o.keep, amplification, log });
      if (c !== corpus) r.corpus = c;
      tools.push(r);
    }
    return {
      order,
      tools,
      ratios: ratios(tools),
      loadAverage: { start: loadStart, end: os.loadavg() },
    };
  };
  const done: BenchRound[] = [];
  for (let i = 0; i < rounds; i++) {
    if (rounds > 1) log(`round ${i + 1} of ${rounds}`);
    const order = i % 2 === 0 ? toolNames : [...toolNames].reverse();
    // The amplification dry runs measure the repository, not speed: once is enough. Not on the
    // million corpus: one dry run per folder would be 1,000 CLI runs.
    done.push(await runRound(order, i === 0 && !o["no-amplification"] && o.corpus !== "million"));
  }
  const tools = done[0].tools;

  const report: BenchReport = {
    benchVersion: 2,
    date: new Date().toISOString(),
    host: {
      cpus: navigator.hardwareConcurrency,
      memoryBytes: os.totalmem(),
      os: Deno.build.os,
      deno: Deno.version.deno,
      loadAverage: { start: loadAtStart, end: os.loadavg() },
    },
    chunker: chunker &&
      { mbPerSec: chunker.mbPerSec, rounds: chunker.rounds, bytes: chunker.bytes },
    corpus,
    ...(peers.size > 0 ? { peers: [...peers.values()] } : {}),
    tools,
    ratios: rounds > 1 ? medianRatios(done) : done[0].ratios,
    ...(rounds > 1 ? { rounds: done } : {}),
  };
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else console.log(render(report));

  const failed = done.flatMap((r) => r.tools).some((t) =>
    (t.available && t.steps.some((s) => s.code !== 0 || s.wrong)) ||
    (t.restore && !t.restore.identical) ||
    t.amplification?.error !== undefined
  );
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
