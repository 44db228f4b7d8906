/**
 * The peer tools `deno task bench` runs beside Permafrost, installed at pinned versions by the
 * bench itself (docs/bench.md, "Peers"):
 *
 * - restic 0.19.1 from the Go module proxy (`go mod download github.com/restic/restic@v0.19.1`,
 *   then `go build ./cmd/restic` into `<tools>/restic-0.19.1`; Debian's package is 0.14.0);
 * - rustic 0.11.4 from crates.io (`cargo install rustic-rs --version 0.11.4 --locked --root
 *   <tools>/rustic-0.11.4`);
 * - kopia 0.23.1 from the Go module proxy (`go mod download github.com/kopia/kopia@v0.23.1`,
 *   then `go build` of that module into `<tools>/kopia-0.23.1`, with the version stamped as
 *   kopia's own Makefile does).
 *
 * `<tools>` is `tools/` in the bench cache (`~/.cache/permafrost-bench/tools`), not on PATH. A
 * second run finds the pinned versions and installs nothing. The compilers run under `nice -n 19`.
 * A tool that cannot be installed is reported with the reason; the bench goes on without it.
 *
 * Run alone: `deno task bench:peers [--cache DIR] [restic,rustic,kopia]`.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

export const RESTIC_VERSION = "0.19.1";
export const RUSTIC_VERSION = "0.11.4";
export const KOPIA_VERSION = "0.23.1";
/** The peers, in the order the bench runs them. */
export const PEERS = ["restic", "rustic", "kopia"] as const;
export type PeerName = typeof PEERS[number];

/** The version each peer is pinned to. */
const PINNED: Record<PeerName, string> = {
  restic: RESTIC_VERSION,
  rustic: RUSTIC_VERSION,
  kopia: KOPIA_VERSION,
};

/** A peer as found or installed: its binary, or why there is none. */
export interface Peer {
  name: PeerName;
  /** The command to run (a path, or a name on PATH); absent when unavailable. */
  binary?: string;
  /** Its version line. */
  version?: string;
  /** Why it is not available. */
  reason?: string;
  /** Seconds the install took now; 0 when it was already there. */
  installSeconds: number;
}

/** `~/.cache/permafrost-bench` (or `$XDG_CACHE_HOME/permafrost-bench`): corpora and tools. */
export function defaultCacheRoot(): string {
  return path.join(
    Deno.env.get("XDG_CACHE_HOME") ?? path.join(os.homedir(), ".cache"),
    "permafrost-bench",
  );
}

interface Ran {
  ok: boolean;
  code: number;
  out: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; logFile?: string } = {},
): Promise<Ran> {
  try {
    const o = await new Deno.Command(cmd, {
      args,
      cwd: opts.cwd,
      env: opts.env,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
    if (opts.logFile) fs.appendFileSync(opts.logFile, `$ ${cmd} ${args.join(" ")}\n${text}\n`);
    return { ok: o.success, code: o.code, out: text };
  } catch (err) {
    return {
      ok: false,
      code: 127,
      out: `"${cmd}" could not be started: ${(err as Error).message}`,
    };
  }
}

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

/** The first line of `binary ARGS` when it mentions `want` (or anything, without `want`). */
async function versionLine(
  binary: string,
  args: string[],
  want?: string,
): Promise<string | undefined> {
  const r = await run(binary, args);
  const line = r.out.trim().split("\n")[0];
  return r.ok && line && (want === undefined || line.includes(want)) ? line : undefined;
}

/**
 * Finds `name` at its pinned version under `toolsDir`, installing it first when it is missing
 * (unless `install` is false). Never throws: an install that fails gives `reason`.
 */
export async function ensurePeer(
  name: PeerName,
  toolsDir: string,
  { install = true, log = (_: string) => {} } = {},
): Promise<Peer> {
  const t0 = performance.now();
  const done = (p: Omit<Peer, "installSeconds">, installed: boolean): Peer => ({
    ...p,
    installSeconds: installed ? (performance.now() - t0) / 1000 : 0,
  });
  const pinned = PINNED[name];
  const dir = path.join(toolsDir, `${name}-${pinned}`);
  const binary = name === "rustic" ? path.join(dir, "bin", "rustic") : path.join(dir, name);
  // restic says its version with `restic version`; the others with `--version`.
  const versionArgs = name === "restic" ? ["version"] : ["--version"];
  const have = await versionLine(binary, versionArgs, pinned);
  if (have) return done({ name, binary, version: have }, false);
  if (!install) return done({ name, reason: `"${binary}" is not installed` }, false);
  fs.mkdirSync(dir, { recursive: true });
  const logFile = path.join(toolsDir, `${name}-${pinned}.install.log`);
  fs.writeFileSync(logFile, "");
  log(`installing ${name} ${pinned} into ${dir} (minutes; log: ${logFile}) ...`);
  const why = name === "rustic"
    ? await cargoInstall(dir, logFile)
    : name === "kopia"
    ? await goBuildKopia(dir, logFile)
    : await goBuildRestic(dir, logFile);
  const now = await versionLine(binary, versionArgs, pinned);
  if (now) return done({ name, binary, version: now }, true);
  return done({ name, reason: why ?? `"${binary} --version" does not say ${pinned}` }, true);
}

async function cargoInstall(dir: string, logFile: string): Promise<string | undefined> {
  const r = await run("nice", [
    "-n",
    "19",
    "cargo",
    "install",
    "rustic-rs",
    "--version",
    RUSTIC_VERSION,
    "--locked",
    "--root",
    dir,
  ], { logFile });
  if (r.ok) return undefined;
  return r.code === 127 || /No such file|not found/.test(r.out.split("\n")[0])
    ? `"cargo" is not on PATH (install Rust: https://rustup.rs)`
    : `cargo install rustic-rs ${RUSTIC_VERSION} failed: ${lastLines(r.out)} (log: ${logFile})`;
}

/**
 * `go install github.com/kopia/kopia@v0.23.1` asks the proxy for the module's version list (to
 * check for a deprecation), which some proxies refuse; downloading the pinned version and
 * building it needs only that version.
 */
async function goBuildKopia(dir: string, logFile: string): Promise<string | undefined> {
  const mod = `github.com/kopia/kopia@v${KOPIA_VERSION}`;
  const dl = await run("go", ["mod", "download", "-json", mod], { logFile });
  if (dl.code === 127) return `"go" is not on PATH (install Go: https://go.dev/dl)`;
  let info: { Dir?: string; Origin?: { Hash?: string } } = {};
  try {
    info = JSON.parse(dl.out.slice(dl.out.indexOf("{")));
  } catch {
    // reported below
  }
  if (!dl.ok || !info.Dir) return `go mod download ${mod} failed: ${lastLines(dl.out)}`;
  const pkg = "github.com/kopia/kopia/repo";
  const ldflags = `-s -w -X ${pkg}.BuildVersion=${KOPIA_VERSION} -X ${pkg}.BuildInfo=${
    info.Origin?.Hash ?? `v${KOPIA_VERSION}`
  }`;
  const out = path.join(dir, "kopia");
  const r = await run(
    "nice",
    ["-n", "19", "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "."],
    { cwd: info.Dir, logFile, env: { GOFLAGS: "-mod=readonly" } },
  );
  return r.ok ? undefined : `go build of ${mod} failed: ${lastLines(r.out)} (log: ${logFile})`;
}

/**
 * restic 0.19.1 from the Go module proxy (Debian's package is 0.14.0): the pinned module's
 * `cmd/restic`, whose release tags carry their version in the source.
 */
async function goBuildRestic(dir: string, logFile: string): Promise<string | undefined> {
  const mod = `github.com/restic/restic@v${RESTIC_VERSION}`;
  const dl = await run("go", ["mod", "download", "-json", mod], { logFile });
  if (dl.code === 127) return `"go" is not on PATH (install Go: https://go.dev/dl)`;
  let info: { Dir?: string } = {};
  try {
    info = JSON.parse(dl.out.slice(dl.out.indexOf("{")));
  } catch {
    // reported below
  }
  if (!dl.ok || !info.Dir) return `go mod download ${mod} failed: ${lastLines(dl.out)}`;
  const r = await run(
    "nice",
    [
      "-n",
      "19",
      "go",
      "build",
      "-trimpath",
      "-ldflags",
      "-s -w",
      "-o",
      path.join(dir, "restic"),
      "./cmd/restic",
    ],
    { cwd: info.Dir, logFile, env: { GOFLAGS: "-mod=readonly" } },
  );
  return r.ok ? undefined : `go build of ${mod} failed: ${lastLines(r.out)} (log: ${logFile})`;
}

/** Finds or installs each of `names` in turn (one compiler at a time on a small machine). */
export async function ensurePeers(
  names: PeerName[],
  toolsDir: string,
  options: { install?: boolean; log?: (line: string) => void } = {},
): Promise<Map<PeerName, Peer>> {
  const out = new Map<PeerName, Peer>();
  for (const name of names) out.set(name, await ensurePeer(name, toolsDir, options));
  return out;
}

/** One line per peer: its version and where it is, or why it is not available. */
export function describePeer(p: Peer): string {
  if (!p.binary) return `${p.name} not available: ${p.reason}`;
  const took = p.installSeconds > 0 ? ` (installed now in ${p.installSeconds.toFixed(0)} s)` : "";
  return `${p.name}: ${p.version} at ${p.binary}${took}`;
}

if (import.meta.main) {
  const usage =
    "Usage: deno task bench:peers [--cache DIR] [PEER,...] (peers: restic, rustic, kopia)";
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: { cache: { type: "string", default: defaultCacheRoot() } },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    Deno.exit(2);
  }
  const given = parsed.positionals.flatMap((a) => a.split(",")).filter(Boolean);
  const list = given.length > 0 ? given : [...PEERS];
  const unknown = list.find((n) => !(PEERS as readonly string[]).includes(n));
  if (unknown !== undefined) {
    console.error(`unknown peer "${unknown}" (known: ${PEERS.join(", ")})`);
    console.error(usage);
    Deno.exit(2);
  }
  const peers = await ensurePeers(list as PeerName[], path.join(parsed.values.cache, "tools"), {
    log: (s) => console.error(s),
  });
  for (const p of peers.values()) console.log(describePeer(p));
  Deno.exit([...peers.values()].every((p) => p.binary) ? 0 : 1);
}
