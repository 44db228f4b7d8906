/**
 * The host/plugin wire protocol, version 1 (docs/plugins.md §4). Both sides import this file;
 * nothing else knows the message shapes.
 *
 * @module
 */

import type { Manifest } from "./manifest.ts";
import { wireErrors } from "./errors.ts";

/** Version of the message shapes below; every message carries it as `v`. */
export const PROTOCOL_VERSION = 1;

/** Version of the plugin API (the manifest's `api` field). */
export const API_VERSION = 1;

/** Host -> worker, once, on the worker's global scope; the ports are transferred. */
export interface InitMessage {
  type: "init";
  v: typeof PROTOCOL_VERSION;
  api: typeof API_VERSION;
  manifest: Manifest;
  config: unknown;
  capabilities: Record<string, MessagePort>;
  main: MessagePort;
}

/** Worker -> host, once, on the worker's global scope: the answer to {@link InitMessage}. */
export type StatusMessage =
  | { type: "ready"; v: typeof PROTOCOL_VERSION }
  | { type: "error"; v: typeof PROTOCOL_VERSION; error: WireError };

/** An error as sent: the class name (rebuilt by {@link decodeError}) and its message. */
export interface WireError {
  name: string;
  message: string;
}

/** A call on an RPC port. `id` is unique among the sender's calls in flight on that port. */
export interface RpcRequest {
  v: typeof PROTOCOL_VERSION;
  id: number;
  method: string;
  args: unknown[];
}

/** The answer to the {@link RpcRequest} with the same `id`. */
export type RpcResponse =
  | { v: typeof PROTOCOL_VERSION; id: number; ok: true; value: unknown }
  | { v: typeof PROTOCOL_VERSION; id: number; ok: false; error: WireError };

/** Turns anything thrown into a {@link WireError}. Stacks never cross the boundary. */
export function encodeError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

const builtinErrors: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Rebuilds an error by name: the classes of `errors.ts` first, then JavaScript's built-in
 * errors, then `Deno.errors.*` (`NotFound`, `NotCapable`, ...); otherwise a plain `Error`
 * whose `name` is kept.
 */
export function decodeError(w: WireError): Error {
  const name = String(w?.name ?? "Error");
  const message = String(w?.message ?? "");
  const own = Object.hasOwn(wireErrors, name) ? wireErrors[name] : undefined;
  if (own) return new own(message);
  if (Object.hasOwn(builtinErrors, name)) return new builtinErrors[name](message);
  const denoErrors = (globalThis as { Deno?: { errors?: Record<string, unknown> } }).Deno?.errors;
  const denoClass = denoErrors && Object.hasOwn(denoErrors, name) ? denoErrors[name] : undefined;
  if (typeof denoClass === "function") {
    return new (denoClass as new (message: string) => Error)(message);
  }
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * Prepares a value list (call arguments, or `[returnValue]`) for `postMessage`: every
 * `Uint8Array` at the top level or directly inside a top-level array is moved, not copied.
 * One that owns its whole (non-shared) buffer is transferred as is, so the sender's view is
 * detached afterwards; any other view (a `subarray`, a shared buffer) is first copied to a
 * buffer of its own, so only its bytes cross, not its whole backing buffer. Returns the values
 * to send and the transfer list. Nested objects are structured-cloned as usual. Throws
 * `TypeError` for a view whose buffer is already detached (sent before): a caller bug.
 */
export function prepareValues(values: unknown[]): { values: unknown[]; transfer: Transferable[] } {
  const transfer: Transferable[] = [];
  const seen = new Set<ArrayBufferLike>();
  const move = (u: Uint8Array): Uint8Array => {
    const b = u.buffer;
    if (b instanceof ArrayBuffer && b.detached) {
      throw new TypeError(
        "a Uint8Array was passed after its buffer had been transferred (detached); " +
          "pass a copy (data.slice()) where the same bytes are sent twice",
      );
    }
    if (
      b instanceof ArrayBuffer && u.byteOffset === 0 && u.byteLength === b.byteLength &&
      !seen.has(b)
    ) {
      seen.add(b);
      transfer.push(b);
      return u;
    }
    const copy = u.slice();
    seen.add(copy.buffer);
    transfer.push(copy.buffer);
    return copy;
  };
  const out = values.map((v) => {
    if (v instanceof Uint8Array) return move(v);
    if (Array.isArray(v) && v.some((x) => x instanceof Uint8Array)) {
      return v.map((x) => x instanceof Uint8Array ? move(x) : x);
    }
    return v;
  });
  return { values: out, transfer };
}
