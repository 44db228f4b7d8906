/**
 * Closing a storage plugin in order: no call is cut in the middle, whichever way the process
 * ends (a command's `close`, an error, SIGINT or SIGTERM).
 *
 * Why: closing a plugin terminates its worker, and a worker terminated in the middle of a write
 * leaves it unfinished: the `sqlite` store's rollback journal stays beside the database (the
 * file alone is then not the whole repository until the next command rolls the write back),
 * the `local` store's temporary file stays in `tmp/`. So `close` first waits for the calls in
 * flight, and while any storage is open, SIGINT and SIGTERM close every open one that way
 * before the process exits.
 *
 * @module
 */

import type { StorageBackend } from "./role_handle.ts";

/** How long `close` waits for calls in flight before it terminates the worker anyway. */
export const DRAIN_TIMEOUT_MS = 30_000;

const signals: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];
const signalNumbers: Partial<Record<Deno.Signal, number>> = {
  SIGINT: 2,
  SIGTERM: 15,
  SIGBREAK: 21,
};

/** The storages open in this process; the signal listeners are installed while it is not empty. */
const open = new Set<OrderlyBackend>();
const listeners = new Map<Deno.Signal, () => void>();

/**
 * A storage plugin that closes in order. Contract: `close` refuses new calls at once (they
 * reject with an `Error` naming the storage, or `Deno.errors.Interrupted` saying why when a
 * signal closed it), waits for the calls in flight to settle (at most
 * {@link DRAIN_TIMEOUT_MS}), then closes the plugin; it is idempotent, and every caller gets
 * the same promise. Open, it is in the set that SIGINT and SIGTERM close (`closeAllOnSignal`).
 */
export class OrderlyBackend implements StorageBackend {
  readonly #plugin: StorageBackend;
  readonly #label: string;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  /** Set when a signal closed it: what later calls are told. */
  #interrupted: string | undefined;

  /** `label` names the storage in errors (the location). */
  constructor(plugin: StorageBackend, label: string) {
    this.#plugin = plugin;
    this.#label = label;
    open.add(this);
    if (open.size === 1) listen();
  }

  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#closing) {
      const closed = `storage "${this.#label}" is closed`;
      return Promise.reject(
        this.#interrupted === undefined
          ? new Error(closed)
          : new Deno.errors.Interrupted(`${closed}: ${this.#interrupted}`),
      );
    }
    const call = this.#plugin.call<T>(method, ...args);
    const settled = call.then(() => {}, () => {});
    this.#inFlight.add(settled);
    settled.then(() => this.#inFlight.delete(settled));
    return call;
  }

  /** Closes once the calls in flight have settled. */
  close(): Promise<void> {
    this.#closing ??= this.#drainAndClose();
    return this.#closing;
  }

  /** Closes as `close` does; later calls reject with `Interrupted` saying `why`. */
  interrupt(why: string): Promise<void> {
    if (!this.#closing) this.#interrupted = why;
    return this.close();
  }

  async #drainAndClose(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(this.#inFlight),
        new Promise((resolve) => timer = setTimeout(resolve, DRAIN_TIMEOUT_MS)),
      ]);
    } finally {
      clearTimeout(timer);
      open.delete(this);
      if (open.size === 0) unlisten();
      await this.#plugin.close();
    }
  }
}

function listen(): void {
  for (const signal of signals) {
    const listener = () => void closeAllOnSignal(signal);
    listeners.set(signal, listener);
    Deno.addSignalListener(signal, listener);
  }
}

function unlisten(): void {
  for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  listeners.clear();
}

/**
 * On SIGINT or SIGTERM while storage is open: stops listening (a second signal ends the process
 * at once, as by default), closes every open storage in order, and exits with 128 + the
 * signal's number, as a shell reports a process the signal ended.
 */
async function closeAllOnSignal(signal: Deno.Signal): Promise<void> {
  unlisten();
  const why = `the command was interrupted by ${signal}`;
  await Promise.allSettled([...open].map((b) => b.interrupt(why)));
  console.error(`permafrost: interrupted by ${signal}; the repository was closed`);
  Deno.exit(128 + (signalNumbers[signal] ?? 0));
}
