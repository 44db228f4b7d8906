/**
 * What `deno task bench` prints: the report (its `--json` form) and the text table rendered from
 * it, with the permafrost/restic ratios and the restore amplification.
 *
 * @module
 */

import type { Amplification } from "./amplification.ts";
import type { CorpusInfo } from "./corpus.ts";
import type { Peer } from "./peers.ts";
import {
  ALL_STEPS,
  displayName,
  PROBE_STEPS,
  STEP_LABELS,
  type StepName,
  type ToolResult,
} from "./run_tool.ts";

/** permafrost's time and peak RSS over a peer's, for one step (lower is better). */
export interface Ratio {
  /** The peer tool: restic, rustic or kopia. */
  peer: string;
  step: StepName;
  time: number;
  rss: number;
}

/** The tools Permafrost is compared with, in this order. */
export const PEER_NAMES = ["restic", "rustic", "kopia"];

/** The whole report, as `--json` prints it. */
export interface BenchReport {
  benchVersion: number;
  date: string;
  host: {
    cpus: number;
    memoryBytes: number;
    os: string;
    deno: string;
    /** `os.loadavg()` (1, 5 and 15 minutes) when the run started and when it ended. */
    loadAverage: { start: number[]; end: number[] };
  };
  chunker: { mbPerSec: number; rounds: number[]; bytes: number } | null;
  corpus: CorpusInfo | null;
  /** The peer tools asked for: where each was found or installed, or why it is not there. */
  peers?: Peer[];
  tools: ToolResult[];
  ratios: Ratio[];
  /**
   * With `--rounds N` (N > 1): every round's results, the tools run in turn in the order given
   * and then reversed. `tools` is then the first round; `ratios` are the medians over the rounds
   * of each round's own ratio (`medianRatios`).
   */
  rounds?: BenchRound[];
}

/** One round of `--rounds`: the order the tools ran in, their results and the ratios. */
export interface BenchRound {
  order: string[];
  tools: ToolResult[];
  ratios: Ratio[];
  loadAverage: { start: number[]; end: number[] };
}

/**
 * Per peer and step, the median of the rounds' ratios (each round's permafrost/peer, both
 * measured in that round: on a shared machine a ratio within one round is steadier than times
 * across rounds).
 */
export function medianRatios(rounds: BenchRound[]): Ratio[] {
  const out: Ratio[] = [];
  for (const peer of PEER_NAMES) {
    for (const step of ALL_STEPS.slice(1)) {
      const of = rounds.flatMap((r) => r.ratios.filter((x) => x.peer === peer && x.step === step));
      if (of.length === 0) continue;
      out.push({
        peer,
        step,
        time: median(of.map((x) => x.time)),
        rss: median(of.map((x) => x.rss)),
      });
    }
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Aligns `rows` in columns: the first `left` columns padded on the right, the others on the left. */
function table(rows: string[][], left = 2): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")
      .trimEnd()
  ).join("\n");
}

/** A step that exited 0 with a right output. */
function succeeded(t: ToolResult, step: StepName) {
  return t.steps.find((s) => s.step === step && s.code === 0 && !s.wrong);
}

/**
 * permafrost/peer for each peer that ran and each step both completed (local repositories only).
 */
export function ratios(tools: ToolResult[]): Ratio[] {
  const pf = tools.find((t) => t.name === "permafrost");
  if (!pf?.available) return [];
  const out: Ratio[] = [];
  for (const peer of PEER_NAMES) {
    const other = tools.find((t) => t.name === peer);
    if (!other?.available) continue;
    for (const step of ALL_STEPS.slice(1)) {
      const a = succeeded(pf, step), b = succeeded(other, step);
      if (a && b) {
        out.push({
          peer,
          step,
          time: a.seconds / b.seconds,
          rss: b.peakRssBytes ? a.peakRssBytes / b.peakRssBytes : NaN,
        });
      }
    }
  }
  return out;
}

function describeCorpus(c: CorpusInfo): string {
  return `${c.dir}: ${c.files} files in ${c.dirs} dirs, ${fmtBytes(c.bytes)}` +
    (c.generatedSeconds ? ` (generated in ${c.generatedSeconds.toFixed(1)} s)` : "") +
    (c.source ? `\n  ${c.source}` : "") +
    (c.probe ? `\n  probe: ls ${c.probe.dir}, find and restore ${c.probe.file}` : "");
}

/** The report as text. */
export function render(report: BenchReport): string {
  const { tools } = report;
  const out: string[] = [];
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  const { start, end } = report.host.loadAverage;
  out.push(
    `permafrost benchmark, ${report.date}, ${report.host.cpus} CPUs, deno ${report.host.deno}`,
    `load average (1/5/15 min): ${load(start)} at the start, ${load(end)} at the end`,
  );
  if (report.chunker) {
    out.push(`chunker: FastCDC 256K/1M/4M ${report.chunker.mbPerSec.toFixed(0)} MB/s`);
  }
  if (report.corpus) out.push(`corpus: ${describeCorpus(report.corpus)}`);
  for (const p of report.peers ?? []) {
    if (p.installSeconds > 0) {
      out.push(`${p.name} installed now in ${p.installSeconds.toFixed(0)} s`);
    }
  }
  for (const t of tools) {
    out.push(
      t.available ? `${t.name}: ${t.version}` : `${displayName(t.name)} not available: ${t.reason}`,
    );
    if (t.corpus) out.push(`  ${t.name} corpus: ${describeCorpus(t.corpus)}`);
  }
  out.push("");
  const rows = [["step", "tool", "seconds", "MB/s", "peak RSS", "repo size"]];
  for (const step of ALL_STEPS) {
    for (const t of tools) {
      const s = t.steps.find((x) => x.step === step);
      if (!s) {
        // A probe step the tool has no command for.
        const probed = t.steps.some((x) => (PROBE_STEPS as readonly string[]).includes(x.step));
        if (probed && (PROBE_STEPS as readonly string[]).includes(step)) {
          rows.push([STEP_LABELS[step], t.name, "-", "-", "-", "-"]);
        }
        continue;
      }
      rows.push([
        STEP_LABELS[step],
        t.name,
        s.seconds.toFixed(2),
        s.code !== 0
          ? "FAILED"
          : s.wrong
          ? "WRONG"
          : s.mbPerSec === null
          ? "-"
          : s.mbPerSec.toFixed(1),
        fmtBytes(s.peakRssBytes),
        step === "init" || step === "backup" || step === "backup-nochange"
          ? fmtBytes(s.repoBytes)
          : "-",
      ]);
    }
  }
  if (rows.length > 1) out.push(table(rows), "");
  for (const t of tools) {
    for (const s of t.steps) {
      if (s.wrong) out.push(`${t.name} ${STEP_LABELS[s.step]}: ${s.wrong}`);
    }
  }
  for (const t of tools) {
    if (t.note) out.push(`${t.name}: ${t.note}`);
    if (t.name === "permafrost-s3" && t.steps.length > 0) {
      out.push(
        "  full restore = plan, RestoreObject for each DEEP_ARCHIVE pack, --wait --poll 1 (moto",
        "  thaws at once), ranged GETs. moto serves one request at a time: these MB/s show the",
        "  client's overhead and the protocol path, not AWS.",
      );
    }
    if (t.restore) {
      const r = t.restore;
      out.push(
        r.identical
          ? `${t.name} restore: identical (${r.files} files, ${fmtBytes(r.bytes)})`
          : `${t.name} restore: NOT identical, ${r.problemCount} problems under ${r.root}:\n  ${
            r.problems.join("\n  ")
          }`,
      );
    }
    if (t.workspace) out.push(`${t.name} workspace kept: ${t.workspace}`);
  }
  for (const t of tools) {
    if (t.amplification) out.push("", ...renderAmplification(t.name, t.amplification));
  }
  if (report.rounds && report.rounds.length > 1) out.push("", ...renderRounds(report.rounds));
  if (report.ratios.length > 0) {
    out.push(
      "",
      report.rounds && report.rounds.length > 1
        ? `permafrost/peer, median over ${report.rounds.length} rounds of each round's own ratio` +
          " (lower is better):"
        : "permafrost/peer (lower is better):",
      table([
        ["peer", "step", "time", "peak RSS"],
        ...report.ratios.map((r) => [r.peer, STEP_LABELS[r.step], x(r.time), x(r.rss)]),
      ]),
    );
  }
  return out.join("\n");
}

function x(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "-";
}

/** Each round's seconds (one row per round), then its own permafrost/peer time ratios. */
function renderRounds(rounds: BenchRound[]): string[] {
  const steps = ALL_STEPS.slice(1).filter((step) =>
    rounds.some((r) => r.tools.some((t) => t.steps.some((s) => s.step === step)))
  );
  const rows = [["round", "order", "load", ...steps.map((s) => STEP_LABELS[s])]];
  rounds.forEach((r, i) => {
    rows.push([
      String(i + 1),
      r.order.join(","),
      r.loadAverage.start[0].toFixed(2),
      ...steps.map((step) => {
        const secs = r.tools.map((t) => t.steps.find((x) => x.step === step))
          .map((x) => x && x.code === 0 && !x.wrong ? x.seconds.toFixed(2) : "-");
        return `${secs.join("/")} s`;
      }),
    ]);
  });
  const ratioRows = [["round", "peer", ...steps.map((s) => STEP_LABELS[s])]];
  rounds.forEach((r, i) => {
    for (const peer of PEER_NAMES) {
      const of = r.ratios.filter((x) => x.peer === peer);
      if (of.length === 0) continue;
      ratioRows.push([
        String(i + 1),
        peer,
        ...steps.map((step) => {
          const ratio = of.find((x) => x.step === step);
          return ratio ? x(ratio.time) : "-";
        }),
      ]);
    }
  });
  return [
    "rounds (seconds of each tool in the order it ran):",
    table(rows, 2),
    ...(ratioRows.length > 1
      ? ["", "each round's permafrost/peer time ratio:", table(ratioRows, 2)]
      : []),
  ];
}

function renderAmplification(tool: string, a: Amplification): string[] {
  const floor = a.summary ? fmtBytes(a.summary.floor) : "the floor";
  const out = [
    `restore amplification, ${tool}: bytes of the packs a restore of one directory thaws / bytes`,
    `of its files (from \`restore latest:/DIR --dry-run --json\`; ${
      a.seconds.toFixed(1)
    } s), for each top-level`,
    `directory and each deeper one of at least ${floor}; * marks directories under ${floor},`,
    "which share packs with their neighbours and are not held to the target:",
  ];
  const rows = [[
    "directory",
    "files",
    "file bytes",
    "frame bytes",
    "packs",
    "pack bytes",
    "ratio",
  ]];
  const top = a.dirs[0]?.path.split("/").slice(0, 2).join("/") ?? "";
  for (const d of a.dirs) {
    const below = a.summary !== null && d.fileBytes < a.summary.floor;
    rows.push([
      d.path.slice(top.length + 1) + (below ? " *" : ""),
      String(d.files),
      fmtBytes(d.fileBytes),
      fmtBytes(d.readBytes),
      String(d.packs),
      fmtBytes(d.packBytes),
      d.ratio === null ? "-" : d.ratio.toFixed(2),
    ]);
  }
  if (rows.length > 1) out.push(table(rows, 1));
  const s = a.summary;
  if (s) {
    out.push(
      `all ${s.dirs}: min ${s.min.toFixed(2)}, median ${s.median.toFixed(2)}, max ${
        s.max.toFixed(2)
      } (${s.worst.slice(top.length + 1)})` +
        (s.large === null ? "" : `, large/ ${s.large.toFixed(2)}`),
      s.maxAtFloor === null
        ? `no directory of at least ${floor}: nothing held to the target (${s.target.toFixed(1)})`
        : `${s.atFloor} of at least ${floor}: max ${s.maxAtFloor.toFixed(2)} (${
          s.worstAtFloor!.slice(top.length + 1)
        })` +
          (s.withinTarget
            ? `: every one within the target (${s.target.toFixed(1)})`
            : `: over the target (${s.target.toFixed(1)})`),
    );
  }
  if (a.error) out.push(`FAILED: ${a.error}`);
  return out;
}
