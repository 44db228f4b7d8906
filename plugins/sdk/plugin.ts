/**
 * The plugin side of the sandbox: `servePlugin` answers the host's `init` message and serves
 * the plugin's methods on the port the host handed over (docs/plugins.md §4).
 *
 * @module
 */

import { CapabilityRefused } from "./errors.ts";
import type { Manifest } from "./manifest.ts";
import {
  API_VERSION,
  encodeError,
  type InitMessage,
  PROTOCOL_VERSION,
  type StatusMessage,
} from "./protocol.ts";
import { RpcClient, serveRpc } from "./rpc.ts";

/** The methods a plugin serves, by name. Only those its manifest lists are reachable. */
export type PluginMethods = Record<string, (...args: any[]) => unknown>;

/**
 * What a plugin is given at start-up.
 *
 * Contract: `manifest` and `config` are the host's copies (validated manifest, user config).
 * `capability(name)` returns the client for a capability the host granted (the same client on
 * every call) and throws `CapabilityRefused` for any other name; a granted capability refuses
 * each method it does not grant, also with `CapabilityRefused`.
 */
export interface PluginContext {
  manifest: Manifest;
  config: unknown;
  capability(name: string): RpcClient;
}

interface WorkerScope {
  onmessage: ((e: MessageEvent) => unknown) | null;
  postMessage(message: unknown): void;
}

/**
 * Makes the current worker a plugin: waits for the host's `init`, runs `setup`, checks that
 * every method the manifest lists is served, serves them on the main port and answers
 * `ready`; if anything fails it answers `error` instead and the host's `startPlugin` rejects.
 * Call it once, at the top level of the plugin's entry module.
 */
export function servePlugin(
  setup: (ctx: PluginContext) => PluginMethods | Promise<PluginMethods>,
): void {
  const scope = globalThis as unknown as WorkerScope;
  const status = (m: StatusMessage) => scope.postMessage(m);
  scope.onmessage = async (e: MessageEvent) => {
    scope.onmessage = null;
    try {
      const init = e.data as InitMessage;
      if (init?.type !== "init") throw new TypeError(`expected an "init" message`);
      if (init.v !== PROTOCOL_VERSION) {
        throw new TypeError(`protocol version "${init.v}" is not supported`);
      }
      if (init.api !== API_VERSION) {
        throw new TypeError(`plugin API "${init.api}" is not supported`);
      }
      const { manifest, capabilities } = init;
      const clients = new Map<string, RpcClient>();
      const ctx: PluginContext = {
        manifest,
        config: init.config,
        capability(name: string): RpcClient {
          let client = clients.get(name);
          if (client) return client;
          if (!Object.hasOwn(capabilities, name)) {
            throw new CapabilityRefused(
              `capability "${name}" was not granted to plugin "${manifest.name}"`,
            );
          }
          client = new RpcClient(capabilities[name]);
          clients.set(name, client);
          return client;
        },
      };
      const methods = await setup(ctx);
      const served: PluginMethods = {};
      for (const m of manifest.methods) {
        const fn = Object.hasOwn(methods, m) ? methods[m] : undefined;
        if (typeof fn !== "function") {
          throw new TypeError(
            `plugin "${manifest.name}" lists method "${m}" but does not serve it`,
          );
        }
        served[m] = fn.bind(methods);
      }
      serveRpc(init.main, manifest.name, served);
      status({ type: "ready", v: PROTOCOL_VERSION });
    } catch (err) {
      status({ type: "error", v: PROTOCOL_VERSION, error: encodeError(err) });
    }
  };
}
