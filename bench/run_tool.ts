/**
 * One tool's run in `deno task bench`: in a fresh workspace, its four steps (init, first
 * backup, no-change backup, full restore) as measured subprocesses, then the check that the
 * restore is identical to the source and, for a tool that can print restore plans, the restore
 * amplification of each top-level directory (amplification.ts).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import fs from "node:fs";
import path from "node:path";
import { type Amplification, measureAmplification } from "./amplification.ts";
import type { CorpusInfo } from "./corpus.ts";
import { type Command, measure, type Measured } from "./measure.ts";
import type { BenchTool, Workspace } from "./tools.ts";
import { compareTrees, restoredRoot, type TreeComparison } from "./verify.ts";

/** The steps every tool runs, in order. */
export const STEPS = ["init", "backup", "backup-nochange", "restore"] as const;
/**
 * The steps run after those on a corpus that names a probe (`CorpusInfo.probe`), by each tool
 * that has them: list one folder, find one name, restore one file.
 */
export const PROBE_STEPS = ["ls", "find", "restore-one"] as const;
export const ALL_STEPS = [...STEPS, ...PROBE_STEPS] as const;
export type StepName = typeof ALL_STEPS[number];
export const STEP_LABELS: Record<StepName, string> = {
  "init": "init",
  "backup": "first backup",
  "backup-nochange": "no-change backup",
  "restore": "full restore",
  "ls": "ls one folder",
  "find": "find a name",
  "restore-one": "restore one file",
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
  /** For a probe step that exited 0: what is wrong with its output, when something is. */
  wrong?: string;
  /** Stdout, until the probe's check has read it. */
  output?: string;
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
    const command = () =>
      step === "init"
        ? tool.init(ws)
        : step === "restore"
        ? tool.restore(ws)
        : tool.backup(ws, corpus.dir);
    const r = await runStep(tool, ws, step, command, corpus, log);
    result.steps.push(r);
    if (r.code !== 0) {
      const what = `${STEP_LABELS[step]} exited with code ${r.code}: ${r.error}`;
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
  if (corpus.probe) await runProbes(tool, ws, corpus, corpus.probe, result, log);
}

/** Runs and measures one step; a command that cannot be made (kopia's lookup) fails the step. */
async function runStep(
  tool: BenchTool,
  ws: Workspace,
  step: StepName,
  command: () => Command | Promise<Command>,
  corpus: CorpusInfo,
  log: (line: string) => void,
): Promise<StepResult> {
  log(`${tool.name}: ${STEP_LABELS[step]} ...`);
  const probing = (PROBE_STEPS as readonly string[]).includes(step);
  let m: Measured;
  try {
    m = await measure(await command());
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const rssBySource = { time: 0, hwm: 0, tree: 0 };
    m = {
      code: 1,
      seconds: 0,
      peakRssBytes: 0,
      rssSource: "none",
      rssBySource,
      stdout: "",
      stderr: error,
    };
  }
  const r: StepResult = {
    step,
    seconds: m.seconds,
    mbPerSec: step === "init" || probing ? null : corpus.bytes / m.seconds / 1e6,
    peakRssBytes: m.peakRssBytes,
    rssSource: m.rssSource,
    rssBySource: m.rssBySource,
    code: m.code,
    repoBytes: tool.repoBytes ? await tool.repoBytes(ws) : dirBytes(ws.repo),
  };
  if (m.code !== 0) r.error = tail(m.stderr || m.stdout);
  else if (probing) r.output = m.stdout;
  return r;
}

/**
 * The probe steps: `ls` of the probe's folder and `find` of its file's name must print that
 * name; `restore-one` must put a file of that name with the source's bytes under a new folder.
 */
async function runProbes(
  tool: BenchTool,
  ws: Workspace,
  corpus: CorpusInfo,
  probe: NonNullable<CorpusInfo["probe"]>,
  result: ToolResult,
  log: (line: string) => void,
): Promise<void> {
  const name = path.basename(probe.file);
  const into = path.join(ws.dir, "restore-one");
  fs.mkdirSync(into);
  // Each command is made just before its step: kopia's looks up the latest snapshot first.
  const steps: [StepName, (() => Command | Promise<Command>) | undefined][] = [
    ["ls", tool.ls && (() => tool.ls!(ws, corpus.dir, probe.dir))],
    ["find", tool.find && (() => tool.find!(ws, name))],
    ["restore-one", tool.restoreOne && (() => tool.restoreOne!(ws, corpus.dir, probe.file, into))],
  ];
  for (const [step, command] of steps) {
    if (!command) continue;
    const r = await runStep(tool, ws, step, command, corpus, log);
    if (r.code === 0) {
      if (step !== "restore-one" && !r.output!.includes(name)) {
        r.wrong = `its output does not name "${name}"`;
      } else if (step === "restore-one") {
        r.wrong = restoredOne(path.join(corpus.dir, probe.file), into);
      }
      if (r.wrong) log(`${tool.name}: ${STEP_LABELS[step]}: ${r.wrong}`);
    } else log(`${tool.name}: ${STEP_LABELS[step]} exited with code ${r.code}: ${r.error}`);
    delete r.output;
    result.steps.push(r);
  }
}

/** Undefined when the one file under `into` is `source`'s bytes, else what is wrong. */
function restoredOne(source: string, into: string): string | undefined {
  const name = path.basename(source);
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else found.push(p);
    }
  };
  walk(into);
  if (found.length !== 1 || path.basename(found[0]) !== name) {
    return `"${into}" holds ${found.length} files, not just "${name}"`;
  }
  return Buffer.compare(fs.readFileSync(found[0]), fs.readFileSync(source)) === 0
    ? undefined
    : `"${found[0]}" differs from "${source}"`;
}
