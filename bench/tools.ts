/**
 * The backup tools the benchmark runs, each as the commands for its four steps: init, backup
 * (run twice: first and no-change) and restore of the latest snapshot. Each run gets a fresh
 * workspace (repository, cache and restore target in one temporary directory). The S3 variant
 * of Permafrost (against moto) is in `s3_run.ts`.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import type { Command } from "./measure.ts";

/** One tool run's private directories. */
export interface Workspace {
  /** The temporary directory holding the others. */
  dir: string;
  repo: string;
  cache: string;
  /** Restore target; created empty by the harness. */
  target: string;
}

/** A backup tool under test. Commands are run from `Command.cwd` with `Command.env` added. */
export interface BenchTool {
  name: string;
  /** Undefined when the tool can run here, else one line saying why it cannot. */
  unavailable(): Promise<string | undefined>;
  /** A short version string for the report. */
  version(): Promise<string>;
  init(ws: Workspace): Command;
  /** Backs up the directory `source` (an absolute path). */
  backup(ws: Workspace, source: string): Command;
  /** Restores the latest snapshot into `ws.target`. */
  restore(ws: Workspace): Command | Promise<Command>;
  /**
   * Lists the directory `rel` (relative to the backed-up `source`) of the latest snapshot;
   * absent when the tool cannot. The probe steps (`ls`, `find`, `restore-one`) run on corpora
   * that name a probe (the million-file corpus).
   */
  ls?(ws: Workspace, source: string, rel: string): Command | Promise<Command>;
  /** Finds the entries named `name` (a base name) in the repository; absent when it cannot. */
  find?(ws: Workspace, name: string): Command;
  /** Restores the one file `rel` (relative to `source`) of the latest snapshot under `into`. */
  restoreOne?(ws: Workspace, source: string, rel: string, into: string): Command | Promise<Command>;
  /**
   * A command printing the restore plan of `snapshotPath` in the latest snapshot as JSON
   * (`restore --dry-run --json`), for the restore amplification; absent when the tool has none.
   */
  plan?(ws: Workspace, snapshotPath: string): Command;
  /** Bytes the repository holds (default: bytes of the files under `ws.repo`). */
  repoBytes?(ws: Workspace): Promise<number>;
  /** One line for the report about where the repository is (e.g. a server), when it helps. */
  describe?(): Promise<string>;
  /** Stops what `unavailable()` started; called once the tool's run is over. */
  close?(): Promise<void>;
}

/** The first line `cmd args` prints, or `fallback` when it cannot run or fails. */
async function firstLine(cmd: string, args: string[], fallback: string): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n")[0];
    return out.success && line ? line : fallback;
  } catch {
    return fallback;
  }
}

const PERMAFROST_MAIN = "host/cli/main.ts";

/**
 * The command running the Permafrost CLI with `args`:
 * `deno run --allow-all --quiet --v8-flags=... host/cli/main.ts ARGS` from the project root
 * `root`, with `PERMAFROST_PASSWORD=bench`, `PERMAFROST_CACHE_DIR=<workspace cache>` and `env`.
 */
export function permafrostCommand(
  root: string,
  ws: Workspace,
  args: string[],
  env: Record<string, string> = {},
): Command {
  return {
    cmd: Deno.execPath(),
    // The same flags as `deno task pf` (deno.json): see docs/bench.md on the semi-space size.
    args: [
      "run",
      "--allow-all",
      "--quiet",
      "--v8-flags=--max-semi-space-size=8",
      PERMAFROST_MAIN,
      ...args,
    ],
    cwd: root,
    env: { PERMAFROST_PASSWORD: "bench", PERMAFROST_CACHE_DIR: ws.cache, ...env },
  };
}

/** Undefined when the Permafrost CLI is in `root`, else why not (for `unavailable()`). */
export function permafrostMissing(root: string): string | undefined {
  const file = path.join(root, PERMAFROST_MAIN);
  return fs.existsSync(file) ? undefined : `"${file}" not found`;
}

/** The version line of the Permafrost checkout at `root`. */
export async function permafrostVersion(root: string): Promise<string> {
  const git = await firstLine("git", ["-C", root, "describe", "--always", "--dirty"], "none");
  return `git ${git}, deno ${Deno.version.deno}`;
}

/** Where `rel` under the backed-up `source` is in a Permafrost snapshot: under its base name. */
function snapshotPath(source: string, rel: string): string {
  return path.posix.join("/", path.basename(source), rel);
}

/**
 * Permafrost through its CLI as a subprocess ({@linkcode permafrostCommand}), with a local
 * repository in the workspace; with `engine`, named `permafrost-<engine>` and backing up with
 * `--engine <engine>` (the restore amplification is measured for the default engine only: a
 * `sync` snapshot reads no data packs).
 */
export function permafrostTool(root: string, engine?: string): BenchTool {
  const cli = (ws: Workspace, ...args: string[]) => permafrostCommand(root, ws, args);
  const engineArgs = engine === undefined ? [] : ["--engine", engine];
  return {
    name: engine === undefined ? "permafrost" : `permafrost-${engine}`,
    unavailable: () => Promise.resolve(permafrostMissing(root)),
    version: () => permafrostVersion(root),
    init: (ws) => cli(ws, "init", "--repo", ws.repo),
    backup: (ws, source) => cli(ws, "backup", "--repo", ws.repo, ...engineArgs, source),
    restore: (ws) => cli(ws, "restore", "latest", "--repo", ws.repo, "--target", ws.target),
    // A backup stores `source` under its base name.
    ls: (ws, source, rel) => cli(ws, "ls", "latest", snapshotPath(source, rel), "--repo", ws.repo),
    find: (ws, name) => cli(ws, "find", name, "--repo", ws.repo),
    restoreOne: (ws, source, rel, into) =>
      cli(
        ws,
        "restore",
        `latest:${snapshotPath(source, rel)}`,
        "--repo",
        ws.repo,
        "--target",
        into,
      ),
    ...(engine === undefined
      ? {
        plan: (ws: Workspace, at: string) =>
          cli(ws, "restore", `latest:${at}`, "--repo", ws.repo, "--dry-run", "--json"),
      }
      : {}),
  };
}

/**
 * restic with a local repository (format version 2, default compression "auto"), its cache in
 * the workspace (`RESTIC_CACHE_DIR`) and `RESTIC_PASSWORD=bench`.
 */
export function resticTool(binary = "restic"): BenchTool {
  const run = (ws: Workspace, ...args: string[]): Command => ({
    cmd: binary,
    args,
    env: { RESTIC_PASSWORD: "bench", RESTIC_REPOSITORY: ws.repo, RESTIC_CACHE_DIR: ws.cache },
  });
  return {
    name: "restic",
    async unavailable() {
      try {
        const out = await new Deno.Command(binary, {
          args: ["version"],
          stdout: "null",
          stderr: "null",
        })
          .output();
        return out.success ? undefined : `"${binary} version" exited with code ${out.code}`;
      } catch {
        return `"${binary}" is not on PATH (Debian: apt-get install restic)`;
      }
    },
    version: () => firstLine(binary, ["version"], "unknown version"),
    init: (ws) => run(ws, "init"),
    backup: (ws, source) => run(ws, "backup", source),
    restore: (ws) => run(ws, "restore", "latest", "--target", ws.target),
    ls: (ws, source, rel) => run(ws, "ls", "latest", path.join(source, rel)),
    find: (ws, name) => run(ws, "find", name),
    restoreOne: (ws, source, rel, into) =>
      run(ws, "restore", "latest", "--target", into, "--include", path.join(source, rel)),
  };
}

/** Undefined when `binary ARGS` runs, else why not. */
async function runs(binary: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(binary, { args, stdout: "null", stderr: "null" }).output();
    return out.success ? undefined : `"${binary} ${args.join(" ")}" exited with code ${out.code}`;
  } catch {
    return `"${binary}" not found (deno task bench:peers installs it)`;
  }
}

/**
 * rustic (rustic-rs) with its defaults and a local repository: `RUSTIC_PASSWORD=bench`,
 * `RUSTIC_CACHE_DIR` in the workspace, no progress bars. It reads no config profile unless
 * `~/.config/rustic/rustic.toml` exists, which the bench does not create.
 */
export function rusticTool(binary: string): BenchTool {
  const run = (ws: Workspace, ...args: string[]): Command => ({
    cmd: binary,
    args,
    env: {
      RUSTIC_PASSWORD: "bench",
      RUSTIC_REPOSITORY: ws.repo,
      RUSTIC_CACHE_DIR: ws.cache,
      RUSTIC_NO_PROGRESS: "true",
    },
  });
  return {
    name: "rustic",
    unavailable: () => runs(binary, ["--version"]),
    version: () => firstLine(binary, ["--version"], "unknown version"),
    init: (ws) => run(ws, "init"),
    backup: (ws, source) => run(ws, "backup", source),
    restore: (ws) => run(ws, "restore", "latest", ws.target),
    ls: (ws, source, rel) => run(ws, "ls", `latest:${path.join(source, rel)}`),
    find: (ws, name) => run(ws, "find", "--glob", name),
    restoreOne: (ws, source, rel, into) =>
      run(ws, "restore", `latest:${path.join(source, rel)}`, path.join(into, path.basename(rel))),
  };
}

/**
 * kopia with a filesystem repository in the workspace, its config file and cache there too,
 * `KOPIA_PASSWORD=bench`, no update check. kopia's own default policy stores data uncompressed;
 * `init` sets the global policy to `zstd` (what issue #16 measured), everything else default.
 * A restore names the latest snapshot's root object, looked up (unmeasured) before the step.
 */
export function kopiaTool(binary: string): BenchTool {
  const env = (ws: Workspace) => ({
    KOPIA_PASSWORD: "bench",
    KOPIA_CONFIG_PATH: path.join(ws.dir, "kopia.config"),
    KOPIA_CHECK_FOR_UPDATES: "false",
    KOPIA_LOG_DIR: path.join(ws.dir, "kopia-logs"),
  });
  const run = (ws: Workspace, ...args: string[]): Command => ({ cmd: binary, args, env: env(ws) });
  /** The latest snapshot's root object id (`k...`), by `kopia snapshot list --json`. */
  const latestRoot = async (ws: Workspace): Promise<string> => {
    const out = await new Deno.Command(binary, {
      args: ["snapshot", "list", "--all", "--json"],
      env: env(ws),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(
        `"kopia snapshot list" failed: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
    const snaps = JSON.parse(text) as { startTime: string; rootEntry: { obj: string } }[];
    if (snaps.length === 0) throw new Error(`kopia repository "${ws.repo}" has no snapshot`);
    snaps.sort((a, b) => a.startTime.localeCompare(b.startTime));
    return snaps[snaps.length - 1].rootEntry.obj;
  };
  return {
    name: "kopia",
    unavailable: () => runs(binary, ["--version"]),
    version: () => firstLine(binary, ["--version"], "unknown version"),
    init: (ws) => ({
      cmd: "sh",
      args: [
        "-c",
        '"$0" repository create filesystem --path "$1" --cache-directory "$2" && ' +
        '"$0" policy set --global --compression=zstd',
        binary,
        ws.repo,
        ws.cache,
      ],
      env: env(ws),
    }),
    backup: (ws, source) => run(ws, "snapshot", "create", source),
    restore: async (ws) => run(ws, "snapshot", "restore", await latestRoot(ws), ws.target),
    ls: async (ws, _source, rel) => run(ws, "ls", `${await latestRoot(ws)}/${rel}`),
    restoreOne: async (ws, _source, rel, into) =>
      run(
        ws,
        "snapshot",
        "restore",
        `${await latestRoot(ws)}/${rel}`,
        path.join(into, path.basename(rel)),
      ),
  };
}
