/**
 * `deno task bench [DIR]`: end-to-end benchmark of Permafrost against restic (docs/bench.md).
 *
 * Runs each tool as a subprocess over the same tree (a generated corpus, or DIR): init, a first
 * backup, a second backup with no change, and a full restore of the latest snapshot, measuring
 * wall time (as MB/s of corpus bytes) and peak RSS of each step, the repository size, and
 * whether the restore is byte-identical (run_tool.ts). Permafrost runs twice: on a local
 * repository, and on S3 served by moto on loopback (s3_run.ts, possibly on a smaller corpus).
 * For both it reports the restore amplification of each top-level directory
 * (amplification.ts). Prints a table (or JSON with `--json`) with the permafrost/restic ratios,
 * and the FastCDC chunker's throughput at the top (report.ts). With `--rounds N` the tools run
 * N times, alternating their order, and the ratios are the medians of each round's own ratios.
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
import { type BenchTool, permafrostTool, resticTool } from "./tools.ts";
import { vmBench } from "./delta/vm_bench.ts";

const USAGE = `Usage: deno task bench [options] [DIR]

Benchmarks permafrost (on a local repository, and on S3 served by moto on loopback) and restic
(when on PATH) on DIR or on a generated corpus.

Options:
  --files N        small files in the generated corpus (default 40000 x scale)
  --scale F        scale the generated corpus (default 1: about 800 MB)
  --s3-scale F     run permafrost-s3 on a corpus of this scale instead (default: the same
                   corpus as the other tools; not with DIR)
  --cache DIR      where generated corpora are kept (default ~/.cache/permafrost-bench)
  --tools LIST     comma-separated: permafrost,restic,permafrost-s3,permafrost-worm,
                   permafrost-sync (default all; the last two: the worm and sync engines'
                   backup throughput beside dedup's, on a local repository)
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

const TOOL_NAMES = ["permafrost", "restic", "permafrost-s3", "permafrost-worm", "permafrost-sync"];

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
  const bad = !(scale > 0)
    ? "--scale"
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
  const known: Record<string, () => BenchTool> = {
    permafrost: () => permafrostTool(root),
    restic: () => resticTool(),
    "permafrost-s3": () => permafrostS3Tool(root),
    "permafrost-worm": () => permafrostTool(root, "worm"),
    "permafrost-sync": () => permafrostTool(root, "sync"),
  };
  const unknown = toolNames.find((n) => !known[n]);
  if (unknown) {
    console.error(`unknown tool "${unknown}" (known: ${TOOL_NAMES.join(", ")})\n\n${USAGE}`);
    return 2;
  }

  let chunker = null;
  if (chunkerMib > 0) {
    log(`chunker microbenchmark (${chunkerMib} MiB) ...`);
    chunker = chunkerThroughput(chunkerMib, 4);
  }

  const cacheRoot = o.cache ??
    path.join(
      Deno.env.get("XDG_CACHE_HOME") ?? path.join(os.homedir(), ".cache"),
      "permafrost-bench",
    );
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
    // The amplification dry runs measure the repository, not speed: once is enough.
    done.push(await runRound(order, i === 0 && !o["no-amplification"]));
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
    tools,
    ratios: rounds > 1 ? medianRatios(done) : done[0].ratios,
    ...(rounds > 1 ? { rounds: done } : {}),
  };
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else console.log(render(report));

  const failed = done.flatMap((r) => r.tools).some((t) =>
    (t.available && t.steps.some((s) => s.code !== 0)) || (t.restore && !t.restore.identical) ||
    t.amplification?.error !== undefined
  );
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
