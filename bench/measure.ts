/**
 * Runs a command and measures its wall time and peak resident memory (RSS).
 *
 * Peak RSS is the largest of:
 * - GNU time's `%M` (`/usr/bin/time -f %M`, when installed): the kernel's exact high-water mark
 *   of the largest process in the tree (getrusage of waited children), which also catches a
 *   peak just before exit;
 * - the largest `VmHWM` (per-process high-water mark) seen in `/proc/<pid>/status` for any
 *   process of the tree while polling;
 * - the largest sum of `VmRSS` over the process tree at one poll (for commands that run several
 *   processes at once, e.g. plugins in subprocesses).
 *
 * The tree is found by scanning `/proc/<pid>/stat` for parent ids every {@linkcode POLL_MS} ms
 * (`/proc/<pid>/task/<tid>/children` is not available on every kernel). Linux only for RSS; on
 * other systems the time is still measured and the RSS is reported as 0.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** How often the process tree is sampled. */
export const POLL_MS = 200;

const GNU_TIME = "/usr/bin/time";

/** A command to run. */
export interface Command {
  cmd: string;
  args: string[];
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
}

/** The outcome of {@linkcode measure}. */
export interface Measured {
  /** The command's exit code (127 when it could not be started under GNU time). */
  code: number;
  /** Wall time from spawn to exit. */
  seconds: number;
  /** Peak RSS in bytes by the rule in the module doc; 0 when not measurable. */
  peakRssBytes: number;
  /** Which source gave the peak: "time", "hwm", "tree" or "none". */
  rssSource: string;
  /** Each source's value in bytes (0 when unavailable). */
  rssBySource: { time: number; hwm: number; tree: number };
  stdout: string;
  stderr: string;
}

let gnuTime: boolean | undefined;

function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    try {
      const out = new Deno.Command(GNU_TIME, { args: ["-f", "%M", "true"], stderr: "piped" })
        .outputSync();
      gnuTime = out.success && /^\d+\s*$/.test(new TextDecoder().decode(out.stderr));
    } catch {
      gnuTime = false;
    }
  }
  return gnuTime;
}

/** Parent id of every process, from /proc (empty when /proc is not readable). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(pid, Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** `root` and all its descendants. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) {
    let list = children.get(ppid);
    if (!list) children.set(ppid, list = []);
    list.push(pid);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** VmRSS and VmHWM of `pid` in bytes, or undefined once it has exited. */
function memory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "latin1");
    const kib = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: kib("VmRSS") * 1024, hwm: kib("VmHWM") * 1024 };
  } catch {
    return undefined;
  }
}

/** Runs `c` to completion, measuring as the module doc describes. Never throws for exit codes. */
export async function measure(c: Command): Promise<Measured> {
  const useTime = hasGnuTime();
  const timeFile = useTime
    ? path.join(os.tmpdir(), `permafrost-bench-time-${crypto.randomUUID()}`)
    : "";
  const cmd = useTime ? GNU_TIME : c.cmd;
  const args = useTime ? ["-f", "%M", "-o", timeFile, c.cmd, ...c.args] : c.args;
  const t0 = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd: c.cwd,
      env: c.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    const stderr = `cannot run "${c.cmd}": ${err instanceof Error ? err.message : err}`;
    const rssBySource = { time: 0, hwm: 0, tree: 0 };
    return {
      code: 127,
      seconds: 0,
      peakRssBytes: 0,
      rssSource: "none",
      rssBySource,
      stdout: "",
      stderr,
    };
  }
  let hwm = 0, treeSum = 0;
  const sample = () => {
    let sum = 0;
    for (const pid of tree(child.pid)) {
      if (useTime && pid === child.pid) continue; // GNU time itself
      const m = memory(pid);
      if (!m) continue;
      sum += m.rss;
      hwm = Math.max(hwm, m.hwm);
    }
    treeSum = Math.max(treeSum, sum);
  };
  sample(); // a child that exits before the first poll is still seen once
  const timer = setInterval(sample, POLL_MS);
  const out = await child.output();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  let timeBytes = 0;
  if (useTime) {
    try {
      const text = fs.readFileSync(timeFile, "utf8").trim().split("\n");
      timeBytes = Number(text[text.length - 1]) * 1024 || 0;
    } catch {
      // the command could not be run
    }
    fs.rmSync(timeFile, { force: true });
  }
  const candidates: [string, number][] = [["time", timeBytes], ["hwm", hwm], ["tree", treeSum]];
  const [rssSource, peakRssBytes] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a), ["none", 0]);
  const dec = new TextDecoder();
  return {
    code: out.code,
    seconds,
    peakRssBytes,
    rssSource,
    rssBySource: { time: timeBytes, hwm, tree: treeSum },
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
