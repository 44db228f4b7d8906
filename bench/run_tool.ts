/**
 * One tool's run in `deno task bench`: in a fresh workspace, its four steps (init, first
 * backup, no-change backup, full restore) as measured subprocesses, then the check that the
 * restore is identical to the source and, for a tool that can print restore plans, the restore
 * amplification of each top-level directory (amplification.ts).
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { type Amplification, measureAmplification } from "./amplification.ts";
import type { CorpusInfo } from "./corpus.ts";
import { measure, type Measured } from "./measure.ts";
import type { BenchTool, Workspace } from "./tools.ts";
import { compareTrees, restoredRoot, type TreeComparison } from "./verify.ts";

/** The steps every tool runs, in order. */
export const STEPS = ["init", "backup", "backup-nochange", "restore"] as const;
export type StepName = typeof STEPS[number];
export const STEP_LABELS: Record<StepName, string> = {
  "init": "init",
  "backup": "first backup",
  "backup-nochange": "no-change backup",
  "restore": "full restore",
};

export interface StepResult {
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
  /** Repository bytes after the step. */
  repoBytes: number;
}

export interface ToolResult {
  name: string;
  version: string;
  available: boolean;
  /** Why the tool could not run, when it could not. */
  reason?: string;
  /** The tree this tool backed up, when it is not the report's corpus. */
  corpus?: CorpusInfo;
  /** The tool's line about where its repository was (`BenchTool.describe`). */
  note?: string;
  steps: StepResult[];
  restore?: TreeComparison & { root: string };
  /** Restore amplification per top-level directory, for tools that print restore plans. */
  amplification?: Amplification;
  workspace?: string;
}

export interface RunOptions {
  /** Keep the workspace (repository, cache, restore) instead of removing it. */
  keep: boolean;
  /** Measure the restore amplification when the tool can plan restores. */
  amplification: boolean;
  log: (line: string) => void;
}

/** Bytes of the files under `dir` (0 when it does not exist). */
export function dirBytes(dir: string): number {
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

/** How the report names a tool that could not run. */
export function displayName(name: string): string {
  return name === "permafrost" ? "permafrost CLI" : name;
}

/**
 * Runs `tool` over `corpus` in a fresh workspace under `workRoot`. Never throws for a failed
 * step: the result says which step failed and how.
 */
export async function runTool(
  tool: BenchTool,
  corpus: CorpusInfo,
  workRoot: string,
  options: RunOptions,
): Promise<ToolResult> {
  const { log } = options;
  const result: ToolResult = { name: tool.name, version: "", available: false, steps: [] };
  try {
    const reason = await tool.unavailable();
    if (reason) {
      result.reason = reason;
      log(`${displayName(tool.name)} not available: ${reason}`);
      return result;
    }
    result.version = await tool.version();
    const dir = fs.mkdtempSync(path.join(workRoot, `permafrost-bench-${tool.name}-`));
    try {
      await runSteps(tool, corpus, dir, result, options);
      if (tool.describe) result.note = await tool.describe();
    } finally {
      if (options.keep) result.workspace = dir;
      else fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await tool.close?.();
  }
  return result;
}

async function runSteps(
  tool: BenchTool,
  corpus: CorpusInfo,
  dir: string,
  result: ToolResult,
  { log, amplification }: RunOptions,
): Promise<void> {
  const ws: Workspace = {
    dir,
    repo: path.join(dir, "repo"),
    cache: path.join(dir, "cache"),
    target: path.join(dir, "restore"),
  };
  fs.mkdirSync(ws.cache);
  fs.mkdirSync(ws.target);
  result.available = true;
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
      repoBytes: tool.repoBytes ? await tool.repoBytes(ws) : dirBytes(ws.repo),
    };
    if (m.code !== 0) r.error = tail(m.stderr || m.stdout);
    result.steps.push(r);
    if (m.code !== 0) {
      const what = `${STEP_LABELS[step]} exited with code ${m.code}: ${r.error}`;
      if (step === "init") {
        result.available = false;
        result.reason = what;
        log(`${displayName(tool.name)} not available: ${what}`);
      } else log(`${tool.name}: ${what}`);
      return;
    }
  }
  log(`${tool.name}: verifying the restore ...`);
  const root = restoredRoot(corpus.dir, ws.target);
  result.restore = { root, ...compareTrees(corpus.dir, root) };
  if (amplification && tool.plan) {
    log(`${tool.name}: restore amplification (a dry-run restore per top-level directory) ...`);
    result.amplification = await measureAmplification((at) => tool.plan!(ws, at), corpus.dir, log);
    if (result.amplification.error) log(`${tool.name}: ${result.amplification.error}`);
  }
}
