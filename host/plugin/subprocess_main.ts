/**
 * The main module of a plugin subprocess (docs/plugins.md §4.7): `host/plugin/subprocess.ts`
 * starts `deno run` on this file with the plugin's permissions as Deno flags. It receives the
 * plugin's bundle as the first frame on stdin, closes what a bundle could use to load more code
 * (`URL.createObjectURL`, `Worker`), loads the bundle, and then plays the part of a worker's
 * global scope: `init` arrives on channel 0 with its ports as channel numbers, each becomes a
 * `MessageChannel` whose far end the plugin gets, and every message on it crosses as a frame.
 * The plugin's own code (`servePlugin` of the SDK) runs unchanged. stdout carries only frames:
 * `console` writes to stderr.
 *
 * @module
 */

import { encodeFrame, readFrames } from "./frames.ts";

for (const level of ["log", "info", "debug"] as const) console[level] = console.error;

const stdout = Deno.stdout.writable.getWriter();
let writing: Promise<void> = Promise.resolve();
function send(channel: number, message: unknown): void {
  const bytes = encodeFrame(channel, message);
  writing = writing.then(() => stdout.write(bytes)).catch(() => Deno.exit(0));
}

interface Scope {
  onmessage: ((e: { data: unknown }) => unknown) | null;
  postMessage(message: unknown): void;
}
const scope = globalThis as unknown as Scope;
const ports = new Map<number, MessagePort>();

/** The `init` message with each `{ port: n }` replaced by a port whose messages go to channel n. */
function openPorts(init: Record<string, unknown>): Record<string, unknown> {
  const open = (ref: unknown): MessagePort => {
    const n = (ref as { port?: unknown })?.port;
    if (typeof n !== "number" || ports.has(n)) throw new TypeError("init names a bad port");
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => send(n, e.data);
    ports.set(n, channel.port1);
    return channel.port2;
  };
  const capabilities: Record<string, MessagePort> = {};
  for (const [name, ref] of Object.entries(init.capabilities as Record<string, unknown>)) {
    capabilities[name] = open(ref);
  }
  return { ...init, main: open(init.main), capabilities };
}

const frames = readFrames(Deno.stdin.readable);
const first = await frames.next();
const code = (first.value as [number, { type?: string; code?: unknown }] | undefined)?.[1];
if (first.done || code?.type !== "bundle" || typeof code.code !== "string") {
  throw new TypeError("a plugin subprocess expects its bundle first");
}
const url = URL.createObjectURL(new Blob([code.code], { type: "text/javascript" }));
URL.createObjectURL = () => {
  throw new TypeError("a plugin cannot make blob: URLs");
};
// A Worker would start a module from any URL, a data: one included: code the bundle did not hold.
delete (globalThis as { Worker?: unknown }).Worker;
scope.postMessage = (message: unknown) => send(0, message);
await import(url);
for await (const [channel, message] of frames) {
  if (channel === 0) {
    const handler = scope.onmessage;
    if (typeof handler !== "function") throw new TypeError("the plugin did not call servePlugin");
    await handler({ data: openPorts(message as Record<string, unknown>) });
  } else {
    ports.get(channel)?.postMessage(message);
  }
}
Deno.exit(0);
