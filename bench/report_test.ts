import assert from "node:assert/strict";
import { dirAmplification, summarizeAmplification } from "./amplification.ts";
import { type BenchReport, type BenchRound, medianRatios, ratios, render } from "./report.ts";
import type { StepName, ToolResult } from "./run_tool.ts";

/** A report with nothing measured yet; the tests fill in tools and ratios. */
const emptyReport = (loadStart: number[]): BenchReport => ({
  benchVersion: 2,
  date: "2026-11-26T00:00:00.000Z",
  host: {
    cpus: 2,
    memoryBytes: 1,
    os: "linux",
    deno: "2",
    loadAverage: { start: loadStart, end: [2, 1, 1] },
  },
  chunker: null,
  corpus: null,
  tools: [],
  ratios: [],
});

const plan = (bytes: number, packBytes: number) =>
  JSON.stringify({ files: 2, bytes, readBytes: bytes, packs: 1, packBytes });

Deno.test("render() prints each tool's amplification with its summary, and why a tool did not run", () => {
  const dirs = [
    dirAmplification("/c/a", plan(40e6, 67e6)),
    dirAmplification("/c/a/deep", plan(20e6, 30e6)),
    dirAmplification("/c/large", plan(4e8, 4e8)),
    dirAmplification("/c/small", plan(1e6, 67e6)),
  ];
  const report: BenchReport = {
    ...emptyReport([0.5, 1, 1]),
    tools: [
      {
        name: "permafrost",
        version: "v",
        available: true,
        steps: [],
        amplification: { dirs, summary: summarizeAmplification(dirs), seconds: 3 },
      },
      { name: "permafrost-s3", version: "", available: false, reason: "no python3", steps: [] },
    ],
  };
  const text = render(report);
  assert.match(text, /load average \(1\/5\/15 min\): 0\.50 1\.00 1\.00 at the start/);
  assert.match(text, /permafrost-s3 not available: no python3/);
  assert.match(text, /^a +2 +40\.0 MB +40\.0 MB +1 +67\.0 MB +1\.68$/m);
  assert.match(text, /^a\/deep +2 +20\.0 MB /m);
  assert.match(text, /^small \* +2 +1\.0 MB .* 67\.00$/m);
  assert.match(text, /all 4: min 1\.00, median 1\.59, max 67\.00 \(small\), large\/ 1\.00/);
  assert.match(text, /3 of at least 16\.8 MB: max 1\.68 \(a\): every one within the target/);
});

Deno.test("with rounds, render() prints each round and the ratios are the medians of the rounds' own ratios", () => {
  const step = (name: StepName, seconds: number, rss = 100) => ({
    step: name,
    seconds,
    mbPerSec: 1,
    peakRssBytes: rss,
    rssSource: "time",
    rssBySource: { time: rss, hwm: rss, tree: rss },
    code: 0,
    repoBytes: 1,
  });
  const tool = (name: string, [b, n, r]: number[]): ToolResult => ({
    name,
    version: "v",
    available: true,
    steps: [step("backup", b), step("backup-nochange", n), step("restore", r)],
  });
  const round = (order: string[], pf: number[], rs: number[]): BenchRound => {
    const tools = order.map((n) => tool(n, n === "permafrost" ? pf : rs));
    return {
      order,
      tools,
      ratios: ratios(tools),
      loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
    };
  };
  const rounds = [
    round(["permafrost", "restic"], [10, 2, 9], [10, 4, 10]), // 1.00x 0.50x 0.90x
    round(["restic", "permafrost"], [12, 3, 20], [10, 2, 10]), // 1.20x 1.50x 2.00x
    round(["permafrost", "restic"], [9, 3, 10], [10, 3, 10]), // 0.90x 1.00x 1.00x
  ];
  const med = medianRatios(rounds);
  assert.deepEqual(
    med.map((r) => [r.step, Number(r.time.toFixed(2)), r.rss]),
    [["backup", 1, 1], ["backup-nochange", 1, 1], ["restore", 1, 1]],
  );
  const report: BenchReport = {
    ...emptyReport([1, 1, 1]),
    tools: rounds[0].tools,
    ratios: med,
    rounds,
  };
  const text = render(report);
  assert.match(
    text,
    /^2 +restic,permafrost +1\.00 +10\.00\/12\.00 s +2\.00\/3\.00 s +10\.00\/20\.00 s$/m,
  );
  assert.match(text, /^2 +restic +1\.20x +1\.50x +2\.00x$/m);
  assert.match(text, /median over 3 rounds/);
  assert.match(text, /^restic +first backup +1\.00x +1\.00x$/m);
});

Deno.test("ratios are permafrost over each peer, per round and as medians, and a probe step a peer lacks prints as -", () => {
  const step = (name: StepName, seconds: number, rss: number) => ({
    step: name,
    seconds,
    mbPerSec: null,
    peakRssBytes: rss * 1e6,
    rssSource: "time",
    rssBySource: { time: rss * 1e6, hwm: 0, tree: 0 },
    code: 0,
    repoBytes: 1,
  });
  // Seconds of first backup, no-change backup, ls and find; peak RSS 100 MB for every step.
  const tool = (name: string, [b, n, l, f]: number[]): ToolResult => ({
    name,
    version: "v",
    available: true,
    steps: [
      step("backup", b, 100),
      step("backup-nochange", n, 100),
      step("ls", l, 100),
      ...(Number.isNaN(f) ? [] : [step("find", f, 100)]),
    ],
  });
  const secs: Record<string, number[][]> = {
    permafrost: [[10, 2, 1, 4], [12, 2, 1, 4], [11, 2, 1, 4]],
    restic: [[10, 4, 2, 2], [10, 4, 2, 2], [10, 4, 2, 2]],
    kopia: [[5, 1, 0.5, NaN], [6, 1, 0.5, NaN], [4, 1, 0.5, NaN]],
  };
  const rounds: BenchRound[] = [0, 1, 2].map((i) => {
    const order = i % 2 === 0
      ? ["permafrost", "restic", "kopia"]
      : ["kopia", "restic", "permafrost"];
    const tools = order.map((n) => tool(n, secs[n][i]));
    return {
      order,
      tools,
      ratios: ratios(tools),
      loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
    };
  });
  // Round 1, permafrost/kopia: 10/5, 2/1, 1/0.5; no find for kopia.
  assert.deepEqual(
    rounds[0].ratios.filter((r) => r.peer === "kopia").map((r) => [r.step, r.time]),
    [["backup", 2], ["backup-nochange", 2], ["ls", 2]],
  );
  const med = medianRatios(rounds);
  // kopia's first-backup ratios are 2, 2 and 2.75: the median is 2.
  assert.deepEqual(
    med.map((r) => [r.peer, r.step, r.time, r.rss]),
    [
      ["restic", "backup", 1.1, 1],
      ["restic", "backup-nochange", 0.5, 1],
      ["restic", "ls", 0.5, 1],
      ["restic", "find", 2, 1],
      ["kopia", "backup", 2, 1],
      ["kopia", "backup-nochange", 2, 1],
      ["kopia", "ls", 2, 1],
    ],
  );
  const report: BenchReport = {
    ...emptyReport([1, 1, 1]),
    tools: rounds[0].tools,
    ratios: med,
    rounds,
  };
  const text = render(report);
  assert.match(text, /^find a name +kopia +- +- +- +-$/m);
  assert.match(text, /^ls one folder +permafrost +1\.00 +- +100\.0 MB +-$/m);
  assert.match(text, /^1 +kopia +2\.00x +2\.00x +2\.00x +-$/m);
  assert.match(text, /^3 +restic +1\.10x +0\.50x +0\.50x +2\.00x$/m);
  assert.match(text, /^kopia +no-change backup +2\.00x +1\.00x$/m);
  assert.match(text, /^restic +find a name +2\.00x +1\.00x$/m);
});
