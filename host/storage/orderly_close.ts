/**
 * Closing a storage plugin in order: no call is cut in the middle, whichever way the process
 * ends (a command's `close`, an error, SIGINT or SIGTERM).
 *
 * Why: closing a plugin terminates its worker, and a worker terminated in the middle of a write
 * leaves it unfinished: the `sqlite` store's rollback journal stays beside the database (the
 * file alone is then not the whole repository until the next command rolls the write back),
 * the `local` store's temporary file stays in `tmp/`. So `close` first waits for the calls in
 * flight, and while any storage is open, SIGINT and SIGTERM close every open one that way
 * before the process exits with 128 + the signal's number (130, 143). What the user sees: at
 * once, when calls are under way, that they are being let finish and that a second signal
 * stops at once; at the end, whether the repository was closed in order or a call was cut
 * off after {@link DRAIN_TIMEOUT_MS} (then `permafrost check` names what it left).
 *
 * A command that ends itself on a signal (`serve`) takes the first one instead
 * ({@link stopOnSignal}); a scratch folder a command removes when it ends is removed on a
 * signal too, and a restore's unfinished files ({@link onInterrupt}). A line a command keeps
 * redrawing (its progress) clears itself before these messages ({@link beforeSignalNotice}).
 * The process's own exit waits for the signal's ({@link exitStatus}), so that it ends with
 * the signal's status whichever way the command unwinds meanwhile.
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

/**
 * The storages open in this process; the signal listeners are installed while it is not
 * empty (or a command has taken the signal, {@link stopOnSignal}), until a signal came.
 */
const open = new Set<OrderlyBackend>();
const listeners = new Map<Deno.Signal, () => void>();
/** What the first signal does instead of closing and exiting, while a command has said so. */
let stopper: (() => void) | undefined;
/** What runs on a signal after the storages are closed, before the process exits. */
const cleanups = new Set<(signal: Deno.Signal) => void | Promise<void>>();
/** What runs before each message a signal prints. */
const noticeHooks = new Set<() => void>();
/** Set by the first signal: the listeners stay off, so that a second one ends the process. */
let signalled = false;
/** The closing the first signal started, which ends in its exit. */
let closing: { status: number; done: Promise<void> } | undefined;

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

  readonly #drainTimeoutMs: number;
  /** Whether a call was still in flight when the plugin was closed (the drain timed out). */
  #cut = false;

  /**
   * `label` names the storage in errors (the location). `drainTimeoutMs`: how long `close`
   * waits for the calls in flight (default {@link DRAIN_TIMEOUT_MS}; tests shorten it).
   */
  constructor(
    plugin: StorageBackend,
    label: string,
    options: { drainTimeoutMs?: number } = {},
  ) {
    this.#plugin = plugin;
    this.#label = label;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
    open.add(this);
    updateListeners();
  }

  /** Whether calls are in flight. */
  get busy(): boolean {
    return this.#inFlight.size > 0;
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

  /**
   * Closes as `close` does; later calls reject with `Interrupted` saying `why`. Resolves true
   * when a call was still in flight as the plugin closed (cut off by the drain timeout).
   */
  async interrupt(why: string): Promise<boolean> {
    if (!this.#closing) this.#interrupted = why;
    await this.close();
    return this.#cut;
  }

  async #drainAndClose(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(this.#inFlight),
        new Promise((resolve) => timer = setTimeout(resolve, this.#drainTimeoutMs)),
      ]);
    } finally {
      clearTimeout(timer);
      this.#cut = this.#inFlight.size > 0;
      open.delete(this);
      updateListeners();
      await this.#plugin.close();
    }
  }
}

/**
 * Lets a command that ends itself on SIGINT or SIGTERM (`serve`: it stops serving, closes its
 * storage and exits 0) take the first such signal: `stop` is called instead of the closing and
 * exit of {@link OrderlyBackend}; a second signal closes and exits as without it. Returns what
 * gives the signal back.
 */
export function stopOnSignal(stop: () => void): () => void {
  const own = () => stop();
  stopper = own;
  updateListeners();
  return () => {
    if (stopper === own) stopper = undefined;
    updateListeners();
  };
}

/**
 * Runs `cleanup` (told which signal came) when a signal ends the process, after the storages
 * are closed: a scratch folder a command removes in a `finally`, which the exit would cut short
 * or skip. Returns what unregisters it. The command goes on while the storages drain (its calls
 * rejected), so its own cleanup may be under way then: let both share one promise, and
 * unregister only once that has settled.
 */
export function onInterrupt(cleanup: (signal: Deno.Signal) => void | Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => void cleanups.delete(cleanup);
}

/**
 * Runs `hook` before each message a signal prints on stderr, so that a line the command keeps
 * redrawing there (a progress line) can clear itself first. Returns what unregisters it. A hook
 * must be quick and synchronous; what it throws is ignored.
 */
export function beforeSignalNotice(hook: () => void): () => void {
  noticeHooks.add(hook);
  return () => void noticeHooks.delete(hook);
}

/**
 * The status the process exits with when its command returned `status`: that status, unless
 * a signal is closing the storages (the command, its calls rejected, may have unwound first);
 * then it waits for that closing, which exits with the signal's status itself.
 */
export async function exitStatus(status: number): Promise<number> {
  if (closing === undefined) return status;
  await closing.done;
  return closing.status;
}

/** Listens while a storage is open or a command has taken the signal, until a signal came. */
function updateListeners(): void {
  const wanted = !signalled && (open.size > 0 || stopper !== undefined);
  if (wanted && listeners.size === 0) {
    for (const signal of signals) {
      const listener = () => void onSignal(signal);
      listeners.set(signal, listener);
      Deno.addSignalListener(signal, listener);
    }
  } else if (!wanted) {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    listeners.clear();
  }
}

/** The first SIGINT or SIGTERM: the command's own stop, if it took the signal, else the exit. */
function onSignal(signal: Deno.Signal): void {
  const stop = stopper;
  stopper = undefined;
  if (stop) stop();
  else {
    closing = {
      status: 128 + (signalNumbers[signal] ?? 0),
      done: closeAllOnSignal(signal),
    };
  }
}

/**
 * On SIGINT or SIGTERM while storage is open: stops listening (a second signal ends the process
 * at once, as by default), says so when calls are under way, closes every open storage in
 * order, runs the cleanups, and exits with 128 + the signal's number, as a shell reports a
 * process the signal ended.
 */
async function closeAllOnSignal(signal: Deno.Signal): Promise<void> {
  signalled = true;
  updateListeners();
  const backends = [...open];
  if (backends.some((b) => b.busy)) {
    notice(
      `permafrost: ${signal}: letting the storage calls under way finish (at most ` +
        `${Math.round(DRAIN_TIMEOUT_MS / 1000)} s); a second ${signal} stops at once`,
    );
  }
  const why = `the command was interrupted by ${signal}`;
  const cut = await Promise.allSettled(backends.map((b) => b.interrupt(why)));
  await Promise.allSettled([...cleanups].map(async (cleanup) => await cleanup(signal)));
  notice(
    cut.some((r) => r.status !== "fulfilled" || r.value)
      ? `permafrost: interrupted by ${signal}; a storage call still under way was cut off: ` +
        `"permafrost check" names anything it left unfinished`
      : `permafrost: interrupted by ${signal}; the repository was closed`,
  );
  Deno.exit(128 + (signalNumbers[signal] ?? 0));
}

/** Prints `message` on stderr, after the hooks ({@link beforeSignalNotice}) had their turn. */
function notice(message: string): void {
  for (const hook of noticeHooks) {
    try {
      hook();
    } catch {
      // a display that cannot clear its line must not keep the message from being said
    }
  }
  console.error(message);
}
