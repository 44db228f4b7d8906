/**
 * `deno task bench [DIR]`: end-to-end benchmark of Permafrost against restic (docs/bench.md).
 *
 * Runs each tool as a subprocess over the same tree (a generated corpus, or DIR): init, a first
 * backup, a second backup with no change, and a full restore of the latest snapshot, measuring
 * wall time (as MB/s of corpus bytes) and peak RSS of each step, the repository size, and
 * whether the restore is byte-identical. Prints a table (or JSON with `--json`) with the
 * permafrost/restic ratios, and the FastCDC chunker's throughput at the top.
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
import { measure, type Measured } from "./measure.ts";
import { type BenchTool, permafrostTool, resticTool, type Workspace } from "./tools.ts";
import { compareTrees, restoredRoot, type TreeComparison } from "./verify.ts";

const USAGE = `Usage: deno task bench [options] [DIR]

Benchmarks permafrost (and restic, when on PATH) on DIR or on a generated corpus.

Options:
  --files N        small files in the generated corpus (default 40000 x scale)
  --scale F        scale the generated corpus (default 1: about 800 MB)
  --cache DIR      where generated corpora are kept (default ~/.cache/permafrost-bench)
  --tools LIST     comma-separated: permafrost,restic (default both)
  --chunker-mib N  MiB for the chunker microbenchmark (default 128; 0 skips it)
  --work DIR       where temporary repositories and restores go (default the system temp dir)
  --keep           keep the temporary repositories and restores
  --json           print JSON instead of the table
  -h, --help       show this help`;

/** The steps every tool runs, in order. */
const STEPS = ["init", "backup", "backup-nochange", "restore"] as const;
type StepName = typeof STEPS[number];
const STEP_LABELS: Record<StepName, string> = {
  "init": "init",
  "backup": "first backup",
  "backup-nochange": "no-change backup",
  "restore": "full restore",
};

interface StepResult {
  step: StepName;
  seconds: number;
  /** Corpus bytes per second, in MB/s (not for init). */
  mbPerSec: number | null;
  peakRssBytes: number;
  rssSource: string;
  rssBySource: Measured["rssBySource"];
  code: number;
  /** The last lines of stderr when the step failed. */
  error?: string;
  /** Repository bytes on disk after the step. */
  repoBytes: number;
}

interface ToolResult {
  name: string;
  version: string;
  available: boolean;
  /** Why the tool could not run, when it could not. */
  reason?: string;
  steps: StepResult[];
  restore?: TreeComparison & { root: string };
  workspace?: string;
}

function log(s: string): void {
  console.error(s);
}

function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += fs.lstatSync(p).size;
    }
  };
  walk(dir);
  return total;
}

function tail(text: string, lines = 3): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

async function runTool(
  tool: BenchTool,
  corpus: CorpusInfo,
  workRoot: string,
  keep: boolean,
): Promise<ToolResult> {
  const result: ToolResult = { name: tool.name, version: "", available: false, steps: [] };
  const reason = await tool.unavailable();
  if (reason) {
    result.reason = reason;
    log(`${tool.name === "permafrost" ? "permafrost CLI" : tool.name} not available: ${reason}`);
    return result;
  }
  result.version = await tool.version();
  const dir = fs.mkdtempSync(path.join(workRoot, `permafrost-bench-${tool.name}-`));
  const ws: Workspace = {
    dir,
    repo: path.join(dir, "repo"),
    cache: path.join(dir, "cache"),
    target: path.join(dir, "restore"),
  };
  fs.mkdirSync(ws.cache);
  fs.mkdirSync(ws.target);
  result.available = true;
  try {
    for (const step of STEPS) {
      const command = step === "init"
        ? tool.init(ws)
        : step === "restore"
        ? tool.restore(ws)
        : tool.backup(ws, corpus.dir);
      log(`${tool.name}: ${STEP_LABELS[step]} ...`);
      const m: Measured = await measure(command);
      const r: StepResult = {
        step,
        seconds: m.seconds,
        mbPerSec: step === "init" ? null : corpus.bytes / m.seconds / 1e6,
        peakRssBytes: m.peakRssBytes,
        rssSource: m.rssSource,
        rssBySource: m.rssBySource,
        code: m.code,
        repoBytes: dirBytes(ws.repo),
      };
      if (m.code !== 0) r.error = tail(m.stderr || m.stdout);
      result.steps.push(r);
      if (m.code !== 0) {
        const what = `${STEP_LABELS[step]} exited with code ${m.code}: ${r.error}`;
        if (step === "init") {
          result.available = false;
          result.reason = what;
          log(
            `${tool.name === "permafrost" ? "permafrost CLI" : tool.name} not available: ${what}`,
          );
        } else log(`${tool.name}: ${what}`);
        return result;
      }
    }
    log(`${tool.name}: verifying the restore ...`);
    const root = restoredRoot(corpus.dir, ws.target);
    result.restore = { root, ...compareTrees(corpus.dir, root) };
  } finally {
    if (keep) result.workspace = dir;
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")
      .trimEnd()
  ).join("\n");
}

interface Ratio {
  step: StepName;
  time: number;
  rss: number;
}

function ratios(tools: ToolResult[]): Ratio[] {
  const pf = tools.find((t) => t.name === "permafrost");
  const rs = tools.find((t) => t.name === "restic");
  if (!pf?.available || !rs?.available) return [];
  const out: Ratio[] = [];
  for (const step of STEPS.slice(1)) {
    const a = pf.steps.find((s) => s.step === step && s.code === 0);
    const b = rs.steps.find((s) => s.step === step && s.code === 0);
    if (a && b) {
      out.push({
        step,
        time: a.seconds / b.seconds,
        rss: b.peakRssBytes ? a.peakRssBytes / b.peakRssBytes : NaN,
      });
    }
  }
  return out;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        files: { type: "string" },
        scale: { type: "string", default: "1" },
        cache: { type: "string" },
        tools: { type: "string", default: "permafrost,restic" },
        "chunker-mib": { type: "string", default: "128" },
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
  const scale = Number(o.scale), files = o.files === undefined ? undefined : Number(o.files);
  const chunkerMib = Number(o["chunker-mib"]);
  const bad = !(scale > 0)
    ? "--scale"
    : files !== undefined && !(files >= 0 && Number.isInteger(files))
    ? "--files"
    : !(chunkerMib >= 0)
    ? "--chunker-mib"
    : positionals.length > 1
    ? "DIR (only one)"
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
  };
  const unknown = toolNames.find((n) => !known[n]);
  if (unknown) {
    console.error(`unknown tool "${unknown}"\n\n${USAGE}`);
    return 2;
  }

  let chunker = null;
  if (chunkerMib > 0) {
    log(`chunker microbenchmark (${chunkerMib} MiB) ...`);
    chunker = chunkerThroughput(chunkerMib, 4);
  }

  let corpus: CorpusInfo;
  if (positionals.length === 1) {
    const dir = path.resolve(positionals[0]);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      console.error(`"${dir}" is not a directory`);
      return 2;
    }
    corpus = measureTree(dir);
  } else {
    const cacheRoot = o.cache ??
      path.join(
        Deno.env.get("XDG_CACHE_HOME") ?? path.join(os.homedir(), ".cache"),
        "permafrost-bench",
      );
    corpus = ensureCorpus(cacheRoot, corpusSpec(scale, files), log);
  }
  log(`corpus: ${corpus.dir}: ${corpus.files} files, ${fmtBytes(corpus.bytes)}`);

  const tools: ToolResult[] = [];
  for (const name of toolNames) tools.push(await runTool(known[name](), corpus, o.work, o.keep));
  const rat = ratios(tools);

  const report = {
    benchVersion: 1,
    date: new Date().toISOString(),
    host: {
      cpus: navigator.hardwareConcurrency,
      memoryBytes: os.totalmem(),
      os: Deno.build.os,
      deno: Deno.version.deno,
    },
    chunker: chunker &&
      { mbPerSec: chunker.mbPerSec, rounds: chunker.rounds, bytes: chunker.bytes },
    corpus,
    tools,
    ratios: rat,
  };
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else console.log(render(report.host.cpus, chunker?.mbPerSec, corpus, tools, rat));

  const failed = tools.some((t) =>
    (t.available && t.steps.some((s) => s.code !== 0)) || (t.restore && !t.restore.identical)
  );
  return failed ? 1 : 0;
}

function render(
  cpus: number,
  chunkerMBs: number | undefined,
  corpus: CorpusInfo,
  tools: ToolResult[],
  rat: Ratio[],
): string {
  const out: string[] = [];
  out.push(
    `permafrost benchmark, ${new Date().toISOString()}, ${cpus} CPUs, deno ${Deno.version.deno}`,
  );
  if (chunkerMBs !== undefined) {
    out.push(`chunker: FastCDC 256K/1M/4M ${chunkerMBs.toFixed(0)} MB/s`);
  }
  out.push(
    `corpus: ${corpus.dir}: ${corpus.files} files in ${corpus.dirs} dirs, ${
      fmtBytes(corpus.bytes)
    }` +
      (corpus.generatedSeconds ? ` (generated in ${corpus.generatedSeconds.toFixed(1)} s)` : ""),
  );
  for (const t of tools) {
    out.push(
      t.available
        ? `${t.name}: ${t.version}`
        : `${t.name === "permafrost" ? "permafrost CLI" : t.name} not available: ${t.reason}`,
    );
  }
  out.push("");
  const rows = [["step", "tool", "seconds", "MB/s", "peak RSS", "repo size"]];
  for (const step of STEPS) {
    for (const t of tools) {
      const s = t.steps.find((x) => x.step === step);
      if (!s) continue;
      rows.push([
        STEP_LABELS[step],
        t.name,
        s.seconds.toFixed(2),
        s.code !== 0 ? "FAILED" : s.mbPerSec === null ? "-" : s.mbPerSec.toFixed(1),
        fmtBytes(s.peakRssBytes),
        step === "restore" ? "-" : fmtBytes(s.repoBytes),
      ]);
    }
  }
  if (rows.length > 1) out.push(table(rows), "");
  for (const t of tools) {
    if (!t.restore) continue;
    const r = t.restore;
    out.push(
      r.identical
        ? `${t.name} restore: identical (${r.files} files, ${fmtBytes(r.bytes)})`
        : `${t.name} restore: NOT identical, ${r.problemCount} problems under ${r.root}:\n  ${
          r.problems.join("\n  ")
        }`,
    );
    if (t.workspace) out.push(`${t.name} workspace kept: ${t.workspace}`);
  }
  if (rat.length > 0) {
    out.push("", "permafrost/restic (lower is better):");
    for (const r of rat) {
      out.push(
        `  ${STEP_LABELS[r.step].padEnd(17)} time ${r.time.toFixed(2)}x  peak RSS ${
          r.rss.toFixed(2)
        }x`,
      );
    }
  }
  return out.join("\n");
}

if (import.meta.main) Deno.exit(await main());
