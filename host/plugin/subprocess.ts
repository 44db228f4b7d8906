/**
 * A plugin in a subprocess of its own (docs/plugins.md §4.7, §8): `deno run` of
 * `subprocess_main.ts` with the plugin's permissions as Deno's own flags, no import of anything
 * (`--no-remote`, `--no-npm`, `--deny-import`, `--cached-only`, `--no-config`), no code made
 * from strings, a bounded heap, and a watchdog on its CPU time. It looks to `sandbox.ts` like
 * a Worker: `postMessage(init)` hands the ports over as channels, and every message on them
 * crosses stdin/stdout as a frame (`frames.ts`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { prepareValues } from "../../plugins/sdk/protocol.ts";
import { encodeFrame, readFrames } from "./frames.ts";

/** What a plugin subprocess may use before the host stops it. */
export interface ProcessLimits {
  /** V8's old-space limit, MiB (default 1024): past it the plugin dies alone. */
  memoryMiB?: number;
  /**
   * CPU time the plugin may use without a message to the host, ms (default 60 000): a plugin
   * stuck in a loop is killed after it. Measured from /proc on Linux, wall-clock elsewhere.
   */
  quietCpuMs?: number;
  /**
   * Resident memory of the whole process, MiB (default `2 * memoryMiB + 256`): the heap limit
   * does not count `ArrayBuffer`s or WebAssembly memories, so the watchdog also reads the
   * process's resident size (Linux `/proc`; unbounded elsewhere) and stops it past this.
   */
  residentMiB?: number;
}

/** The part of a `Worker` that `sandbox.ts` uses. */
export interface WorkerLike {
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
}

const runner = fileURLToPath(new URL("./subprocess_main.ts", import.meta.url));
const permissionFlags = ["read", "write", "net", "env", "sys", "run", "ffi"] as const;

/**
 * The `deno run` arguments for a plugin with `permissions`: every grant as an `--allow-*` flag,
 * nothing to import from anywhere. A grant entry holding a comma (which Deno would split) is a
 * `TypeError`.
 */
export function denoArgs(
  permissions: Deno.PermissionOptionsObject,
  limits: ProcessLimits = {},
): string[] {
  const args = [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    "--cached-only",
    "--deny-import",
    `--v8-flags=--max-old-space-size=${limits.memoryMiB ?? 1024},` +
    "--disallow-code-generation-from-strings",
  ];
  const granted = permissions as Record<string, boolean | string[] | undefined>;
  for (const name of permissionFlags) {
    const value = granted[name];
    if (value === true) args.push(`--allow-${name}`);
    else if (Array.isArray(value) && value.length > 0) {
      const bad = value.find((v) => v.includes(","));
      if (bad !== undefined) {
        throw new TypeError(`the "${name}" grant "${bad}" holds a comma, which Deno cannot take`);
      }
      args.push(`--allow-${name}=${value.join(",")}`);
    }
  }
  args.push(runner);
  return args;
}

/** The child's environment: only the variables its `env` grant names (all for `true`). */
function childEnv(permissions: Deno.PermissionOptionsObject): Record<string, string> {
  const host = Deno.env.toObject();
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  const denoDir = host.DENO_DIR ?? (host.HOME ? join(host.HOME, ".cache", "deno") : undefined);
  if (denoDir) env.DENO_DIR = denoDir;
  const grant = (permissions as { env?: boolean | string[] }).env;
  const names = grant === true ? Object.keys(host) : Array.isArray(grant) ? grant : [];
  for (const name of names) if (host[name] !== undefined) env[name] = host[name];
  return env;
}

/** CPU time (user + system) of process `pid`, ms, or undefined where /proc cannot say. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** Resident memory of process `pid`, MiB, or undefined where /proc cannot say. */
function residentMiB(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s*(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Starts a plugin's `bundle` (the code, checked by the caller against its pin) in a subprocess
 * with `permissions`. The result behaves as a module worker that has loaded it.
 */
export function spawnPluginProcess(
  bundle: string,
  permissions: Deno.PermissionOptionsObject,
  limits: ProcessLimits = {},
): WorkerLike {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(permissions, limits),
    clearEnv: true,
    env: childEnv(permissions),
    cwd: "/",
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  let writing: Promise<void> = Promise.resolve();
  let ended = false;
  const write = (channel: number, message: unknown) => {
    if (ended) return;
    const bytes = encodeFrame(channel, message);
    writing = writing.then(() => stdin.write(bytes)).catch(() => {});
  };
  const ports = new Map<number, MessagePort>();
  let stderrTail = "";
  const readStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderrTail = (stderrTail + chunk).slice(-4096);
    }
  })().catch(() => {});
  const self: WorkerLike = {
    onmessage: null,
    onerror: null,
    postMessage(message: unknown) {
      const init = message as { type?: string; main: MessagePort; capabilities: object };
      if (init?.type !== "init") return write(0, message);
      let next = 1;
      const bridge = (port: MessagePort) => {
        const n = next++;
        ports.set(n, port);
        port.onmessage = (e) => write(n, e.data);
        return { port: n };
      };
      const capabilities = Object.fromEntries(
        Object.entries(init.capabilities).map(([name, port]) => [name, bridge(port)]),
      );
      write(0, { ...init, main: bridge(init.main), capabilities });
    },
    terminate() {
      if (ended) return;
      ended = true;
      clearInterval(watchdog);
      for (const p of ports.values()) p.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      stdin.close().catch(() => {});
    },
  };
  const fail = (message: string) => {
    if (ended) return;
    const handler = self.onerror;
    self.terminate();
    handler?.(new ErrorEvent("error", { message, cancelable: true }));
  };
  let lastSign = cpuMs(child.pid) ?? Date.now();
  const quiet = limits.quietCpuMs ?? 60_000;
  const resident = limits.residentMiB ?? 2 * (limits.memoryMiB ?? 1024) + 256;
  const watchdog = setInterval(() => {
    const now = cpuMs(child.pid) ?? Date.now();
    if (now - lastSign > quiet) {
      fail(`used more than ${quiet} ms of CPU time without a word to the host, and was stopped`);
    } else if ((residentMiB(child.pid) ?? 0) > resident) {
      fail(`used more than ${resident} MiB of memory (its limit) and was stopped`);
    }
  }, Math.min(250, quiet));
  Deno.unrefTimer(watchdog);
  write(0, { type: "bundle", code: bundle });
  let framing: string | undefined;
  (async () => {
    try {
      for await (const [channel, message] of readFrames(child.stdout)) {
        lastSign = cpuMs(child.pid) ?? Date.now();
        if (channel === 0) self.onmessage?.(new MessageEvent("message", { data: message }));
        else ports.get(channel)?.postMessage(...transferable(message));
      }
    } catch (e) {
      framing = `wrote something that is not a frame to its stdout (${(e as Error).message})`;
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    const status = await child.status;
    await readStderr;
    if (ended) return;
    const limit = limits.memoryMiB ?? 1024;
    const reason = /out of memory/i.test(stderrTail)
      ? `ran out of memory (its limit is ${limit} MiB) and was stopped`
      : framing ??
        `exited (code ${status.code}${status.signal ? `, ${status.signal}` : ""})` +
          (stderrTail.trim() ? `: ${lastLine(stderrTail)}` : "");
    fail(reason);
  })();
  return self;
}

/** A message from the plugin, with the buffers of its top-level byte arrays to transfer. */
function transferable(message: unknown): [unknown, Transferable[]] {
  const m = message as { args?: unknown[]; value?: unknown };
  if (Array.isArray(m?.args)) {
    const { values, transfer } = prepareValues(m.args);
    return [{ ...m, args: values }, transfer];
  }
  if (m && typeof m === "object" && "value" in m) {
    const { values, transfer } = prepareValues([m.value]);
    return [{ ...m, value: values[0] }, transfer];
  }
  return [message, []];
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.slice(-3).join(" / ");
}
