/**
 * Installing third-party plugins (docs/plugins.md §7.5): plan an `add` (validate the manifest,
 * bundle, say what it asks for), commit it once the user confirmed (store the bundle and the
 * manifest, pin both in the lock with the confirmed grants), `remove`, `list` and `verify`.
 * The CLI (`host/cli/cmd_plugin.ts`) asks; this file never does.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { Manifest } from "../../plugins/sdk/manifest.ts";
import { bundlePlugin } from "./bundle.ts";
import { type Ask, describeAsks } from "./describe_asks.ts";
import { readManifest } from "./manifest.ts";
import {
  LOCK_VERSION,
  type LockEntry,
  pluginFolder,
  readLock,
  sha256Hex,
  withLock,
  writeLock,
} from "./plugin_lock.ts";
import { builtinNames } from "./registry.ts";

/** The kinds a user may install: the host selects those by name (`--engine`, `--filter`). */
export const installableKinds = ["engine", "filter"];

/** An `add`, planned: nothing is stored until {@link commitAdd}. */
export interface AddPlan {
  source: string;
  manifest: Manifest;
  bundle: string;
  bundleSha256: string;
  /** The manifest as installed: its `entry` is the bundle. */
  installedManifest: string;
  asks: Ask[];
  /** The installed version this replaces, if any. */
  previous?: LockEntry;
  /** What this version asks for that the installed one was not granted (empty if new). */
  more: string[];
}

/**
 * Plans adding the plugin at `path`: a folder holding `plugin.json`, a `.tar.gz` of one (the
 * manifest at its top or in its only folder), or an `http(s)://` URL of such an archive.
 * Rejects with the manifest's `ManifestError`, the bundler's `BundleRefused`, or a
 * `TypeError` for a kind that cannot be installed or a name a built-in has.
 */
export async function planAdd(path: string, folder: string): Promise<AddPlan> {
  const { dir, cleanup } = await unpack(path);
  try {
    const manifest = await readManifest(dir);
    if (!installableKinds.includes(manifest.kind)) {
      throw new TypeError(
        `plugin "${manifest.name}" is a ${manifest.kind} plugin; only ` +
          `${installableKinds.join(" and ")} plugins can be installed`,
      );
    }
    if (builtinNames(manifest.kind).includes(manifest.name)) {
      throw new TypeError(
        `plugin "${manifest.name}": a built-in ${manifest.kind} has that name; rename it in ` +
          "its plugin.json",
      );
    }
    const bundle = await bundlePlugin(dir, manifest);
    const installed: Manifest = { ...manifest, entry: "bundle.js" };
    const previous = readLock(folder).plugins[`${manifest.kind}/${manifest.name}`];
    return {
      source: path,
      manifest,
      bundle,
      bundleSha256: sha256Hex(new TextEncoder().encode(bundle)),
      installedManifest: JSON.stringify(installed, null, 2) + "\n",
      asks: describeAsks(manifest),
      previous,
      more: previous ? widening(previous, manifest) : [],
    };
  } finally {
    await cleanup();
  }
}

/** What `manifest` asks for beyond what `previous` was granted, as `net: "x"` words. */
function widening(previous: LockEntry, manifest: Manifest): string[] {
  const more: string[] = [];
  for (const [name, asked] of Object.entries(manifest.permissions)) {
    const had = previous.grants[name as keyof LockEntry["grants"]] ?? false;
    if (asked === false || had === true) continue;
    if (asked === true) {
      more.push(`${name}: everything`);
      continue;
    }
    for (const e of asked) if (had === false || !had.includes(e)) more.push(`${name}: "${e}"`);
  }
  for (const c of manifest.capabilities) {
    if (!previous.capabilities.includes(c)) more.push(`capability "${c}"`);
  }
  return more;
}

/**
 * Stores a confirmed plan: the bundle and manifest into the plugin's folder, then the lock
 * entry pinning them with the manifest's asks as the confirmed grants. The lock is written
 * last, so an interrupted add leaves the previous version (or nothing) installed.
 */
export function commitAdd(plan: AddPlan, folder: string): Promise<LockEntry> {
  return withLock(folder, () => storePlan(plan, folder));
}

async function storePlan(plan: AddPlan, folder: string): Promise<LockEntry> {
  const { manifest } = plan;
  const dir = pluginFolder(folder, manifest.kind, manifest.name);
  const staging = `${dir}.${crypto.randomUUID()}.new`;
  await Deno.mkdir(staging, { recursive: true });
  await Deno.writeTextFile(join(staging, "bundle.js"), plan.bundle);
  await Deno.writeTextFile(join(staging, "plugin.json"), plan.installedManifest);
  const entry: LockEntry = {
    kind: manifest.kind,
    name: manifest.name,
    bundleSha256: plan.bundleSha256,
    manifestSha256: sha256Hex(new TextEncoder().encode(plan.installedManifest)),
    grants: structuredClone(manifest.permissions),
    capabilities: [...manifest.capabilities],
    source: plan.source,
    installedAt: new Date().toISOString(),
  };
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.rename(staging, dir);
  const lock = readLock(folder);
  lock.plugins[`${manifest.kind}/${manifest.name}`] = entry;
  await writeLock(folder, { v: LOCK_VERSION, plugins: lock.plugins });
  return entry;
}

/**
 * The lock entry `name` names (`NAME` or `KIND/NAME`); a `TypeError` naming the installed
 * plugins when there is none, or when `NAME` alone is installed as two kinds.
 */
export function findInstalled(folder: string, name: string): LockEntry {
  const entries = Object.values(readLock(folder).plugins);
  const found = entries.filter((e) => name === `${e.kind}/${e.name}` || name === e.name);
  if (found.length === 1) return found[0];
  const all = entries.map((e) => `"${e.kind}/${e.name}"`).join(", ") || "none";
  throw new TypeError(
    found.length === 0
      ? `plugin "${name}" is not installed (installed: ${all})`
      : `plugin "${name}" is installed as ${found.length} kinds; name it as KIND/NAME (${all})`,
  );
}

/** Removes installed plugin `name` (see {@link findInstalled}): its lock entry, then its files. */
export function removePlugin(folder: string, name: string): Promise<LockEntry> {
  return withLock(folder, () => removeEntry(folder, name));
}

async function removeEntry(folder: string, name: string): Promise<LockEntry> {
  const entry = findInstalled(folder, name);
  const lock = readLock(folder);
  delete lock.plugins[`${entry.kind}/${entry.name}`];
  await writeLock(folder, lock);
  await Deno.remove(pluginFolder(folder, entry.kind, entry.name), { recursive: true })
    .catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  return entry;
}

/** One plugin's check: its files against the pins. */
export interface Verified {
  entry: LockEntry;
  /** What is wrong, one sentence each; empty when the files are the pinned ones. */
  problems: string[];
}

/** Checks the bundle and manifest of `name` (every installed plugin without it) against the lock. */
export async function verifyPlugins(folder: string, name?: string): Promise<Verified[]> {
  const entries = name === undefined
    ? Object.values(readLock(folder).plugins)
    : [findInstalled(folder, name)];
  const out: Verified[] = [];
  for (const entry of entries) {
    const dir = pluginFolder(folder, entry.kind, entry.name);
    const problems: string[] = [];
    for (
      const [file, pin] of [["bundle.js", entry.bundleSha256], [
        "plugin.json",
        entry.manifestSha256,
      ]]
    ) {
      try {
        const sum = sha256Hex(await Deno.readFile(join(dir, file)));
        if (sum !== pin) {
          problems.push(`"${join(dir, file)}" has SHA-256 ${sum}, not the pinned ${pin}`);
        }
      } catch (e) {
        problems.push(`"${join(dir, file)}" cannot be read (${(e as Error).message})`);
      }
    }
    out.push({ entry, problems });
  }
  return out;
}

/** A folder holding the plugin, for `path`; `cleanup` removes what unpacking made. */
async function unpack(path: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  if (!/^https?:\/\//.test(path) && !/\.(tar\.gz|tgz)$/.test(path)) {
    return { dir: path, cleanup: () => Promise.resolve() };
  }
  const temp = await Deno.makeTempDir({ prefix: "pf-plugin-" });
  const cleanup = () => Deno.remove(temp, { recursive: true });
  try {
    let archive = path;
    if (/^https?:\/\//.test(path)) {
      const response = await fetch(path);
      if (!response.ok) throw new TypeError(`"${path}" answered ${response.status}`);
      archive = join(temp, "plugin.tar.gz");
      await Deno.writeFile(archive, new Uint8Array(await response.arrayBuffer()));
    }
    await refuseUnsafeArchive(archive, path);
    const root = join(temp, "unpacked");
    await Deno.mkdir(root);
    const out = await new Deno.Command("tar", {
      args: ["-xzf", archive, "-C", root, "--no-same-owner", "--no-same-permissions"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new TypeError(
        `"${basename(path)}" is not a .tar.gz archive: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    const top = [...Deno.readDirSync(root)];
    const only = top.length === 1 && top[0].isDirectory ? join(root, top[0].name) : root;
    return { dir: only, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The most an archive may unpack to: a plugin's sources are far smaller. */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;

/**
 * Refuses an archive holding a link (which could point extraction, or the bundler, outside
 * the folder), anything but files and folders (a FIFO would hang the bundler, a device is no
 * source), an absolute name or a `..` segment, or more than {@link MAX_ARCHIVE_BYTES} once
 * unpacked (a bomb filling the disk): a plugin folder needs none of them.
 */
async function refuseUnsafeArchive(archive: string, shown: string): Promise<void> {
  const list = await new Deno.Command("tar", {
    args: ["-tvzf", archive],
    env: { LC_ALL: "C" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!list.success) {
    throw new TypeError(
      `"${basename(shown)}" is not a .tar.gz archive: ${new TextDecoder().decode(list.stderr)}`,
    );
  }
  const names = await new Deno.Command("tar", { args: ["-tzf", archive], stdout: "piped" })
    .output();
  const long = new TextDecoder().decode(list.stdout).split("\n").filter((l) => l !== "");
  const short = new TextDecoder().decode(names.stdout).split("\n").filter((l) => l !== "");
  let total = 0;
  long.forEach((line, i) => {
    const name = short[i] ?? line;
    if (line[0] === "l" || line[0] === "h" || / link to /.test(line)) {
      throw new TypeError(`"${basename(shown)}" holds a link, "${name}": a plugin archive may not`);
    }
    if (line[0] !== "-" && line[0] !== "d") {
      throw new TypeError(
        `"${basename(shown)}" holds "${name}", which is neither a file nor a folder: a plugin ` +
          "archive may not",
      );
    }
    if (name.startsWith("/") || name.split("/").includes("..")) {
      throw new TypeError(`"${basename(shown)}" holds the path "${name}", outside its folder`);
    }
    total += Number(line.split(/\s+/)[2]) || 0; // GNU tar -tv: mode owner size date time name
    if (total > MAX_ARCHIVE_BYTES) {
      throw new TypeError(
        `"${basename(shown)}" unpacks to more than ${MAX_ARCHIVE_BYTES / 1024 / 1024} MiB: too ` +
          "large for a plugin",
      );
    }
  });
}
