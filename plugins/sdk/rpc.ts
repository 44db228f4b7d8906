/**
 * Request/response RPC over a `MessagePort`, used on both sides of the host/plugin boundary
 * (docs/plugins.md §4). Message shapes and the transfer rule live in `protocol.ts`.
 *
 * @module
 */

import { CapabilityRefused } from "./errors.ts";
import {
  decodeError,
  encodeError,
  prepareValues,
  PROTOCOL_VERSION,
  type RpcRequest,
  type RpcResponse,
} from "./protocol.ts";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The calling end of a port.
 *
 * Contract: calls may be pipelined (many in flight at once); each promise settles with the
 * response carrying its id, in whatever order the server answers. A rejected call rejects with
 * the error class the server threw when that class is known on this side (see `decodeError`).
 * `Uint8Array` arguments are moved, not copied (see `prepareValues`): do not use one after
 * passing it. After `close()`, pending and later calls reject.
 */
export class RpcClient {
  #port: MessagePort;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closedBy: Error | undefined;

  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (e: MessageEvent<RpcResponse>) => this.#receive(e.data);
    port.onmessageerror = () => this.close(new Error("an RPC response could not be deserialized"));
  }

  /** Calls `method` on the other end and resolves with its return value. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#closedBy) return Promise.reject(this.#closedBy);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      try {
        const { values, transfer } = prepareValues(args);
        const request: RpcRequest = { v: PROTOCOL_VERSION, id, method, args: values };
        this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        this.#port.postMessage(request, transfer);
      } catch (e) {
        this.#pending.delete(id);
        reject(e);
      }
    });
  }

  /** Number of calls awaiting a response. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Closes the port and rejects every pending call with `reason` (default: an `Error` saying
   * the port is closed). Idempotent.
   */
  close(reason?: Error): void {
    if (this.#closedBy) return;
    this.#closedBy = reason ?? new Error("the RPC port is closed");
    this.#port.onmessage = null;
    this.#port.onmessageerror = null;
    this.#port.close();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#closedBy);
  }

  #receive(msg: RpcResponse): void {
    if (msg?.v !== PROTOCOL_VERSION) {
      this.close(new TypeError(`RPC response version "${msg?.v}" is not supported`));
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(decodeError(msg.error));
  }
}

/** Options of {@link serveRpc}. */
export interface ServeOptions {
  /**
   * What the port stands for, for refusal messages: `"plugin"` (default) answers an unknown
   * method with `plugin "<name>" has no method "<m>"`, `"capability"` with
   * `capability "<name>" does not grant "<m>"`.
   */
  kind?: "plugin" | "capability";
}

/**
 * Serves `methods` on `port`: each request runs `methods[method](...args)` (awaited) and is
 * answered with its value or error. Requests run concurrently. Only the object's own
 * properties are methods; any other name is answered with `CapabilityRefused`. A returned
 * `Uint8Array` (or array of them) is moved to the caller, so do not keep using it. Stop by
 * closing the port.
 */
export function serveRpc(
  port: MessagePort,
  name: string,
  methods: Record<string, (...args: any[]) => unknown>,
  options: ServeOptions = {},
): void {
  const refusal = (method: string) =>
    options.kind === "capability"
      ? `capability "${name}" does not grant "${method}"`
      : `plugin "${name}" has no method "${method}"`;
  const reply = (response: RpcResponse, transfer: Transferable[] = []) => {
    try {
      port.postMessage(response, transfer);
    } catch (e) {
      // The value could not be cloned: answer with that error instead (a closed port drops it).
      try {
        port.postMessage({
          v: PROTOCOL_VERSION,
          id: response.id,
          ok: false,
          error: encodeError(e),
        });
      } catch {
        // The port is gone; nobody is waiting.
      }
    }
  };
  port.onmessage = async (e: MessageEvent<RpcRequest>) => {
    const req = e.data;
    const id = typeof req?.id === "number" ? req.id : -1;
    if (req?.v !== PROTOCOL_VERSION) {
      const error = {
        name: "TypeError",
        message: `RPC request version "${req?.v}" is not supported`,
      };
      reply({ v: PROTOCOL_VERSION, id, ok: false, error });
      return;
    }
    const fn = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
    try {
      if (typeof fn !== "function") throw new CapabilityRefused(refusal(String(req.method)));
      const value = await fn.apply(methods, Array.isArray(req.args) ? req.args : []);
      const { values, transfer } = prepareValues([value]);
      reply({ v: PROTOCOL_VERSION, id, ok: true, value: values[0] }, transfer);
    } catch (err) {
      reply({ v: PROTOCOL_VERSION, id, ok: false, error: encodeError(err) });
    }
  };
}
