import assert from "node:assert/strict";
import { OrderlyBackend } from "./orderly_close.ts";

/**
 * A program that opens an OrderlyBackend over a plugin whose calls never settle, starts a call
 * when `busy` is given, prints "ready", and waits. `cleanup` names a folder a registered
 * cleanup removes; `stop` makes it take the signal with stopOnSignal and exit 0 when stopped;
 * `unwind` makes its command return 1 while the signal's cleanup still runs (and writes
 * "unwound"); `notice` registers a hook that writes "<hook>" before each message of a signal.
 */
const driver = `
import { beforeSignalNotice, exitStatus, OrderlyBackend, onInterrupt, stopOnSignal } from "${
  new URL("./orderly_close.ts", import.meta.url).href
}";
const [mode, drainTimeoutMs, cleanup] = Deno.args;
const plugin = {
  call: () => new Promise(() => {}),
  close: () => Promise.resolve(),
};
const backend = new OrderlyBackend(plugin, "sqlite:/r.db", { drainTimeoutMs: Number(drainTimeoutMs) });
if (mode === "busy") void backend.call("create", "packs/ab");
if (cleanup) onInterrupt(() => Deno.remove(cleanup, { recursive: true }));
if (mode === "notice") beforeSignalNotice(() => Deno.stderr.writeSync(new TextEncoder().encode("<hook>")));
if (mode === "unwind") {
  const cleaning = Promise.withResolvers();
  const unwound = Promise.withResolvers();
  onInterrupt(async () => {
    cleaning.resolve();
    await unwound.promise;
  });
  console.log("ready");
  await cleaning.promise;
  const status = exitStatus(1);
  console.error("unwound");
  unwound.resolve();
  Deno.exit(await status);
}
if (mode === "stop") {
  const stopped = Promise.withResolvers();
  stopOnSignal(() => stopped.resolve());
  console.log("ready");
  await stopped.promise;
  await backend.close();
  console.error("stopped");
  Deno.exit(0);
}
console.log("ready");
setInterval(() => {}, 1000);
`;

/** What a stream said so far, read on demand. */
function said(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    /** Reads until the text includes `part` (or the stream ends); resolves the text. */
    async until(part: string | undefined): Promise<string> {
      while (part === undefined || !text.includes(part)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      return text;
    },
  };
}

/**
 * Runs the driver with `args`; once it is ready sends the first of `signals`, and each next one
 * once its stderr says `waitFor`. Resolves its exit status and stderr.
 */
async function signalDriver(
  args: string[],
  signals: Deno.Signal[],
  waitFor = "",
): Promise<{ status: Deno.CommandStatus; stderr: string }> {
  const program = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(program, driver);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", program, ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [stdout, stderr] = [said(child.stdout), said(child.stderr)];
    await stdout.until("ready");
    for (const [i, signal] of signals.entries()) {
      if (i > 0) await stderr.until(waitFor);
      child.kill(signal);
    }
    const [text] = await Promise.all([stderr.until(undefined), stdout.until(undefined)]);
    return { status: await child.status, stderr: text };
  } finally {
    await Deno.remove(program);
  }
}

/** A plugin whose calls settle when the test says, and which records what happened. */
function fakePlugin() {
  const events: string[] = [];
  const pending: (() => void)[] = [];
  return {
    events,
    finishAll: () => pending.splice(0).forEach((finish) => finish()),
    plugin: {
      call<T>(method: string): Promise<T> {
        events.push(`call ${method}`);
        return new Promise<T>((resolve) =>
          pending.push(() => {
            events.push(`done ${method}`);
            resolve(undefined as T);
          })
        );
      },
      close(): Promise<void> {
        events.push("plugin closed");
        return Promise.resolve();
      },
    },
  };
}

Deno.test("OrderlyBackend.close() waits for the calls in flight before it closes the plugin", async () => {
  const fake = fakePlugin();
  const backend = new OrderlyBackend(fake.plugin, "sqlite:/r.db");
  const create = backend.call("create", "packs/ab", new Uint8Array(1));
  const closed = backend.close();
  const later = backend.call("stat", "config");
  await assert.rejects(later, /storage "sqlite:\/r\.db" is closed/);
  assert.deepEqual(fake.events, ["call create"]);
  fake.finishAll();
  await create;
  await closed;
  assert.deepEqual(fake.events, ["call create", "done create", "plugin closed"]);
  assert.equal(backend.close(), closed, "closing again gives the same promise");
});

Deno.test("OrderlyBackend.close() after a failed call closes the plugin at once", async () => {
  const backend = new OrderlyBackend({
    call: () => Promise.reject(new TypeError("bad")),
    close: () => Promise.resolve(),
  }, "local:/r");
  await assert.rejects(backend.call("read", "config"), TypeError);
  await backend.close();
});

Deno.test("OrderlyBackend.interrupt() closes the same way, and later calls are told why", async () => {
  const fake = fakePlugin();
  const backend = new OrderlyBackend(fake.plugin, "sqlite:/r.db");
  const closed = backend.interrupt("the command was interrupted by SIGINT");
  await assert.rejects(
    backend.call("stat", "config"),
    new Deno.errors.Interrupted(
      `storage "sqlite:/r.db" is closed: the command was interrupted by SIGINT`,
    ),
  );
  await closed;
  assert.deepEqual(fake.events, ["plugin closed"]);
});

Deno.test("OrderlyBackend.interrupt() resolves whether a call was cut off by the drain timeout", async () => {
  const fake = fakePlugin();
  const drained = new OrderlyBackend(fake.plugin, "sqlite:/r.db");
  const create = drained.call("create", "packs/ab", new Uint8Array(1));
  assert.equal(drained.busy, true);
  const closing = drained.interrupt("SIGINT");
  fake.finishAll();
  await create;
  assert.equal(await closing, false);

  const stuck = new OrderlyBackend(fakePlugin().plugin, "sqlite:/r.db", { drainTimeoutMs: 1 });
  void stuck.call("create", "packs/ab", new Uint8Array(1));
  assert.equal(await stuck.interrupt("SIGINT"), true);
});

Deno.test("on SIGINT with a call under way the user is told at once, and a second SIGINT ends the process", async () => {
  const { status, stderr } = await signalDriver(
    ["busy", "60000"],
    ["SIGINT", "SIGINT"],
    "a second SIGINT stops at once",
  );
  assert.match(
    stderr,
    /^permafrost: SIGINT: letting the storage calls under way finish \(at most 30 s\); a second SIGINT stops at once\n$/,
  );
  assert.equal(status.signal, "SIGINT", "the second signal ended the process");
});

Deno.test("on SIGTERM a call still under way after the drain timeout is reported cut off, not closed in order", async () => {
  const { status, stderr } = await signalDriver(["busy", "1"], ["SIGTERM"]);
  assert.equal(status.code, 143);
  assert.equal(status.signal, null, "the process exited by itself");
  assert.match(
    stderr,
    /\npermafrost: interrupted by SIGTERM; a storage call still under way was cut off: "permafrost check" names anything it left unfinished\n$/,
  );
});

Deno.test("on SIGINT with nothing under way the storage closes, the cleanups run, and the exit status is 130", async () => {
  const folder = await Deno.makeTempDir();
  const { status, stderr } = await signalDriver(["idle", "60000", folder], ["SIGINT"]);
  assert.equal(status.code, 130);
  assert.equal(stderr, "permafrost: interrupted by SIGINT; the repository was closed\n");
  await assert.rejects(Deno.stat(folder), Deno.errors.NotFound);
});

Deno.test("a command that took the signal with stopOnSignal stops itself, and exits 0", async () => {
  const { status, stderr } = await signalDriver(["stop", "60000"], ["SIGTERM"]);
  assert.equal(status.code, 0, stderr);
  assert.equal(stderr, "stopped\n");
});

Deno.test("a command that unwinds with its own status while a signal's cleanup runs still exits with the signal's", async () => {
  const { status, stderr } = await signalDriver(["unwind", "60000"], ["SIGINT"]);
  assert.equal(status.code, 130, stderr);
  assert.equal(stderr, "unwound\npermafrost: interrupted by SIGINT; the repository was closed\n");
});

Deno.test("the hooks registered with beforeSignalNotice run before each message a signal prints", async () => {
  const { status, stderr } = await signalDriver(["notice", "1"], ["SIGTERM"]);
  assert.equal(status.code, 143);
  assert.equal(
    stderr,
    "<hook>permafrost: interrupted by SIGTERM; the repository was closed\n",
  );
});
