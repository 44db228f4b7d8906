import assert from "node:assert/strict";
import { OrderlyBackend } from "./orderly_close.ts";

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
