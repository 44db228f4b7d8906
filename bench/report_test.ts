import assert from "node:assert/strict";
import { dirAmplification, summarizeAmplification } from "./amplification.ts";
import { type BenchReport, render } from "./report.ts";

const plan = (bytes: number, packBytes: number) =>
  JSON.stringify({ files: 2, bytes, readBytes: bytes, packs: 1, packBytes });

Deno.test("render() prints each tool's amplification with its summary, and why a tool did not run", () => {
  const dirs = [
    dirAmplification("/c/a", plan(40e6, 67e6)),
    dirAmplification("/c/large", plan(4e8, 4e8)),
  ];
  const report: BenchReport = {
    benchVersion: 2,
    date: "2026-11-26T00:00:00.000Z",
    host: {
      cpus: 2,
      memoryBytes: 1,
      os: "linux",
      deno: "2",
      loadAverage: { start: [0.5, 1, 1], end: [2, 1, 1] },
    },
    chunker: null,
    corpus: null,
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
    ratios: [],
  };
  const text = render(report);
  assert.match(text, /load average \(1\/5\/15 min\): 0\.50 1\.00 1\.00 at the start/);
  assert.match(text, /permafrost-s3 not available: no python3/);
  assert.match(text, /^a +2 +40\.0 MB +40\.0 MB +1 +67\.0 MB +1\.68$/m);
  assert.match(text, /min 1\.00, median 1\.34, max 1\.68 \(a\), large\/ 1\.00: every directory/);
});
