/**
 * Starting a plugin in a permission-scoped Deno Worker and talking to it (docs/plugins.md §1,
 * §4). This is the only file that creates plugin workers.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import {
  API_VERSION,
  decodeError,
  type InitMessage,
  PROTOCOL_VERSION,
  type StatusMessage,
} from "../../plugins/sdk/protocol.ts";
import { RpcClient, serveRpc } from "../../plugins/sdk/rpc.ts";
import { type Manifest, ManifestError, readManifest } from "./manifest.ts";
import { effectivePermissions, type PermissionVars, type PluginPolicy } from "./permissions.ts";
import { builtinNames, builtinPlugin, type InstalledPlugin, installedPlugin } from "./registry.ts";
import { sha256Hex } from "./plugin_lock.ts";
import { type ProcessLimits, spawnPluginProcess, type WorkerLike } from "./subprocess.ts";

/**
 * A capability the host offers a plugin: exactly the methods it grants, by name. Each call
 * from the plugin runs the method with the (structured-cloned or transferred) arguments; any
 * other method name is refused with `CapabilityRefused`.
 */
export interface CapabilityImpl {
  [method: string]: (...args: any[]) => unknown;
}

/**
 * How to start a plugin: a built-in by `kind` + `name`, or the plugin folder `dir` (then
 * `name`, if given, must match the manifest). `vars` fills the manifest's `$name` placeholders,
 * `policy` narrows its permissions, `config` is handed to the plugin as is, `capabilities` are
 * the host capabilities on offer (only those the manifest also declares, and the policy allows,
 * are passed). `timeoutMs` bounds start-up (default 30 s).
 *
 * A plugin that is not built in but installed (host/plugin/plugin_lock.ts) runs from its pinned
 * bundle in a subprocess, with the grants the user confirmed as its permissions (`policy` may
 * narrow them further). `bundle` runs the given bundle code that way for a plugin `dir` (what
 * `plugin add` checks before it pins); `limits` bounds such a subprocess.
 */
export interface StartOptions {
  kind: string;
  name?: string;
  dir?: string;
  vars?: PermissionVars;
  policy?: PluginPolicy;
  config?: unknown;
  capabilities?: Record<string, CapabilityImpl>;
  timeoutMs?: number;
  bundle?: string;
  limits?: ProcessLimits;
}

/**
 * A running plugin. Contract: `call` reaches only methods the manifest lists (others reject
 * with `CapabilityRefused` without a round trip); calls may be pipelined; `Uint8Array`
 * arguments are moved to the worker (do not reuse them). If the worker crashes, pending and
 * later calls reject. `close` terminates the worker and closes every port; it is idempotent.
 */
export interface PluginHandle {
  manifest: Manifest;
  /** The permissions the worker runs with. */
  permissions: Deno.PermissionOptionsObject;
  /** The capabilities handed to the plugin. */
  capabilities: string[];
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/**
 * Validates the manifest, computes the permissions, starts the worker and waits for its
 * `ready`. Rejects with `ManifestError`, `CapabilityRefused` (policy denies the plugin),
 * `TypeError` (bad options, missing placeholder), the plugin's own start-up error (class kept,
 * message prefixed), or an `Error` on crash or timeout; nothing is left running on rejection.
 * Steps: {@link loadManifest}, {@link grantedCapabilities}, {@link spawnWorker},
 * {@link awaitReady}, then {@link pluginHandle}.
 */
export async function startPlugin(opts: StartOptions): Promise<PluginHandle> {
  const { dir, manifest, installed } = await loadManifest(opts);
  const asked = installed ? { ...manifest, permissions: installed.entry.grants } : manifest;
  const permissions = effectivePermissions(asked, opts.vars ?? {}, opts.policy);
  const granted = grantedCapabilities(manifest, opts)
    .filter((c) => !installed || installed.entry.capabilities.includes(c));
  const bundle = opts.bundle ?? (installed ? await pinnedBundle(installed) : undefined);
  const w = spawnWorker(dir, manifest, permissions, granted, opts.capabilities ?? {}, {
    bundle,
    limits: opts.limits,
  });
  try {
    await awaitReady(w, manifest, opts);
  } catch (e) {
    w.close(e as Error);
    throw e;
  }
  return pluginHandle(w, manifest, permissions, granted);
}

/**
 * The plugin's folder and its manifest: a built-in's, or `opts.dir`'s. A `TypeError` when the
 * options name neither; a `ManifestError` when the manifest's kind, or its name (if given),
 * is not what `opts` asks for.
 */
async function loadManifest(
  opts: StartOptions,
): Promise<{ dir: string; manifest: Manifest; installed?: InstalledPlugin }> {
  if (opts.dir === undefined && opts.name === undefined) {
    throw new TypeError(`startPlugin() needs a built-in "name" or a plugin "dir"`);
  }
  const installed = opts.dir === undefined && !builtinNames(opts.kind).includes(opts.name!)
    ? installedPlugin(opts.kind, opts.name!)
    : undefined;
  const dir = opts.dir !== undefined
    ? resolve(opts.dir)
    : installed?.dir ?? builtinPlugin(opts.kind, opts.name!);
  if (installed) await checkPin(join(dir, "plugin.json"), installed.entry.manifestSha256);
  const manifest = await readManifest(dir);
  const file = join(dir, "plugin.json");
  if (manifest.kind !== opts.kind) {
    throw new ManifestError(file, "kind", `is "${manifest.kind}", not "${opts.kind}"`);
  }
  if (opts.name !== undefined && manifest.name !== opts.name) {
    throw new ManifestError(file, "name", `is "${manifest.name}", not "${opts.name}"`);
  }
  return { dir, manifest, installed };
}

/**
 * Refuses a file of an installed plugin whose SHA-256 is not the one its lock pins: it was
 * changed after the user confirmed it.
 */
async function checkPin(file: string, sha256: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Deno.errors.NotFound(
      `"${file}" of an installed plugin is missing; "permafrost plugin add" the plugin again ` +
        `from its source, or remove it`,
    );
  }
  if (sha256Hex(bytes) !== sha256) {
    throw new Error(
      `"${file}" is not the file that was installed (its SHA-256 differs from the one pinned ` +
        `in the plugin lock); run "permafrost plugin verify" to see what changed, then ` +
        `"permafrost plugin add" the plugin again from its source, or remove it`,
    );
  }
  return bytes;
}

/** The code of an installed plugin's bundle, checked against its pin. */
async function pinnedBundle(installed: InstalledPlugin): Promise<string> {
  const file = join(installed.dir, "bundle.js");
  return new TextDecoder().decode(await checkPin(file, installed.entry.bundleSha256));
}

/** The capabilities the manifest declares that the host offers and the policy allows. */
function grantedCapabilities(manifest: Manifest, opts: StartOptions): string[] {
  const offered = opts.capabilities ?? {};
  const allowed = opts.policy?.capabilities;
  return manifest.capabilities.filter((c) =>
    Object.hasOwn(offered, c) && (allowed === undefined || allowed.includes(c))
  );
}

/** A plugin's worker and the ports to it, before and after it is ready. */
interface PluginWorker {
  /** `plugin "<name>"`, for messages. */
  label: string;
  worker: WorkerLike;
  /** Calls to the plugin's methods, over the main channel. */
  client: RpcClient;
  /** The plugin's end of the main channel, sent with `init`. */
  mainPort: MessagePort;
  /** The plugin's end of each granted capability's channel, sent with `init`. */
  pluginPorts: Record<string, MessagePort>;
  /** Terminates the worker and closes every port, rejecting pending calls with `reason`; once. */
  close: (reason: Error) => void;
}

/**
 * Serves each granted capability on a channel of its own, opens the main channel, and starts
 * the manifest's entry in a module worker with `permissions`. The worker waits for `init`.
 */
function spawnWorker(
  dir: string,
  manifest: Manifest,
  permissions: Deno.PermissionOptionsObject,
  granted: string[],
  offered: Record<string, CapabilityImpl>,
  process: { bundle?: string; limits?: ProcessLimits },
): PluginWorker {
  const hostPorts: MessagePort[] = [];
  const pluginPorts: Record<string, MessagePort> = {};
  for (const c of granted) {
    const channel = new MessageChannel();
    serveRpc(channel.port1, c, offered[c], { kind: "capability" });
    hostPorts.push(channel.port1);
    pluginPorts[c] = channel.port2;
  }
  const main = new MessageChannel();
  const client = new RpcClient(main.port1);
  const label = `plugin "${manifest.name}"`;
  const worker: WorkerLike = process.bundle !== undefined
    ? spawnPluginProcess(process.bundle, permissions, process.limits)
    : new Worker(pathToFileURL(join(dir, manifest.entry)).href, {
      type: "module",
      name: `${manifest.kind}/${manifest.name}`,
      deno: { permissions },
    });
  let closed = false;
  const close = (reason: Error) => {
    if (closed) return;
    closed = true;
    client.close(reason);
    for (const p of hostPorts) p.close();
    worker.terminate();
  };
  return { label, worker, client, mainPort: main.port2, pluginPorts, close };
}

/**
 * Sends `init` (protocol and API versions, manifest, config, the ports) and waits for the
 * plugin's `ready`. Rejects with its start-up error (class kept, message prefixed), on a crash,
 * an unknown message, or after `opts.timeoutMs` (default 30 s).
 */
function awaitReady(w: PluginWorker, manifest: Manifest, opts: StartOptions): Promise<void> {
  const { label, worker } = w;
  return new Promise<void>((resolveReady, rejectReady) => {
    const timer = setTimeout(
      () => rejectReady(new Error(`${label} did not start within ${opts.timeoutMs ?? 30000} ms`)),
      opts.timeoutMs ?? 30_000,
    );
    const settle = (error?: Error) => {
      clearTimeout(timer);
      if (error) rejectReady(error);
      else resolveReady();
    };
    worker.onmessage = (e: MessageEvent<StatusMessage>) => {
      const status = e.data;
      if (status?.type === "ready") settle();
      else if (status?.type === "error") {
        const { name, message } = status.error;
        settle(decodeError({ name, message: `${label} failed to start: ${message}` }));
      } else settle(new TypeError(`${label} sent an unknown start-up message`));
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      settle(new Error(`${label} crashed while starting: ${e.message}`));
    };
    const init: InitMessage = {
      type: "init",
      v: PROTOCOL_VERSION,
      api: API_VERSION,
      manifest,
      config: opts.config,
      capabilities: w.pluginPorts,
      main: w.mainPort,
    };
    worker.postMessage(init, [w.mainPort, ...Object.values(w.pluginPorts)]);
  });
}

/**
 * The handle of a plugin that is ready: a later crash closes it (pending and later calls
 * reject); `call` refuses a method the manifest does not list without a round trip.
 */
function pluginHandle(
  w: PluginWorker,
  manifest: Manifest,
  permissions: Deno.PermissionOptionsObject,
  granted: string[],
): PluginHandle {
  const { label, worker, client } = w;
  worker.onmessage = null;
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    w.close(new Error(`${label} crashed: ${e.message}`));
  };
  return {
    manifest,
    permissions,
    capabilities: granted,
    call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
      if (!manifest.methods.includes(method)) {
        return Promise.reject(new CapabilityRefused(`${label} has no method "${method}"`));
      }
      return client.call<T>(method, ...args);
    },
    close(): Promise<void> {
      w.close(new Error(`${label} is closed`));
      return Promise.resolve();
    },
  };
}
