import assert from "node:assert/strict";
import { CapabilityRefused, ObjectExists, ObjectNotFound } from "./errors.ts";
import { RpcClient, type ServeOptions, serveRpc } from "./rpc.ts";

function pair(
  methods: Record<string, (...args: any[]) => unknown>,
  options?: ServeOptions,
): { client: RpcClient; close(): void } {
  const channel = new MessageChannel();
  serveRpc(channel.port2, "test", methods, options);
  const client = new RpcClient(channel.port1);
  return {
    client,
    close() {
      client.close();
      channel.port2.close();
    },
  };
}

Deno.test("RpcClient.call() resolves with what the served method returns", async () => {
  const { client, close } = pair({ add: (a: number, b: number) => a + b, obj: () => ({ x: [1] }) });
  try {
    assert.equal(await client.call("add", 2, 3), 5);
    assert.deepEqual(await client.call("obj"), { x: [1] });
  } finally {
    close();
  }
});

Deno.test("an error thrown by a served method rejects the call with the same class", async () => {
  const { client, close } = pair({
    own: () => {
      throw new ObjectNotFound(`object "a" not found`);
    },
    asyncOwn: () => Promise.reject(new ObjectExists(`object "b" exists`)),
    range: () => {
      throw new RangeError("too far");
    },
    deno: () => {
      throw new Deno.errors.NotCapable("no");
    },
    custom: () => {
      const e = new Error("odd");
      e.name = "WeirdError";
      throw e;
    },
    notAnError: () => {
      throw "a string";
    },
  });
  try {
    await assert.rejects(client.call("own"), (e: Error) => {
      assert.ok(e instanceof ObjectNotFound);
      assert.equal(e.message, `object "a" not found`);
      return true;
    });
    await assert.rejects(client.call("asyncOwn"), ObjectExists);
    await assert.rejects(client.call("range"), RangeError);
    await assert.rejects(client.call("deno"), Deno.errors.NotCapable);
    await assert.rejects(client.call("custom"), (e: Error) => {
      assert.equal(e.name, "WeirdError");
      assert.equal(e.message, "odd");
      return true;
    });
    await assert.rejects(client.call("notAnError"), { name: "Error", message: "a string" });
  } finally {
    close();
  }
});

Deno.test("a method that is not served is refused with CapabilityRefused naming it", async () => {
  const plugin = pair({ ok: () => 1 });
  const capability = pair({ ok: () => 1 }, { kind: "capability" });
  try {
    await assert.rejects(plugin.client.call("nope"), (e: Error) => {
      assert.ok(e instanceof CapabilityRefused);
      assert.equal(e.message, `plugin "test" has no method "nope"`);
      return true;
    });
    await assert.rejects(
      capability.client.call("delete"),
      new CapabilityRefused(`capability "test" does not grant "delete"`),
    );
    await assert.rejects(plugin.client.call("toString"), CapabilityRefused);
    await assert.rejects(plugin.client.call("constructor"), CapabilityRefused);
  } finally {
    plugin.close();
    capability.close();
  }
});

Deno.test("a Uint8Array argument that owns its buffer is transferred, not copied", async () => {
  let received: Uint8Array | undefined;
  const { client, close } = pair({ put: (d: Uint8Array) => (received = d, d.byteLength) });
  try {
    const data = new Uint8Array(1 << 20).fill(7);
    assert.equal(await client.call("put", data), 1 << 20);
    assert.equal(data.byteLength, 0, "the sender's view is detached");
    assert.equal(received!.byteLength, 1 << 20);
    assert.equal(received![12345], 7);
  } finally {
    close();
  }
});

Deno.test("passing a Uint8Array again after it was transferred rejects with a TypeError", async () => {
  const { client, close } = pair({ put: (d: Uint8Array) => d.byteLength });
  try {
    const data = new Uint8Array([1, 2, 3]);
    assert.equal(await client.call("put", data), 3);
    await assert.rejects(client.call("put", data), /already transferred|detached/);
    await assert.rejects(client.call("put", [data]), TypeError);
    assert.equal(client.pending, 0);
  } finally {
    close();
  }
});

Deno.test("a subarray argument is copied, and only its bytes cross", async () => {
  let received: Uint8Array | undefined;
  const { client, close } = pair({ put: (d: Uint8Array) => (received = d, null) });
  try {
    const big = new Uint8Array(4096).map((_, i) => i & 0xff);
    const view = big.subarray(10, 20);
    await client.call("put", view);
    assert.equal(big.byteLength, 4096, "the backing buffer stays usable");
    assert.equal(view.byteLength, 10);
    assert.equal(received!.buffer.byteLength, 10, "not the whole backing buffer");
    assert.deepEqual([...received!], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  } finally {
    close();
  }
});

Deno.test("Uint8Array elements of an array argument are transferred", async () => {
  const { client, close } = pair({ sizes: (list: Uint8Array[]) => list.map((u) => u[0]) });
  try {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3]);
    assert.deepEqual(await client.call("sizes", [a, b, "x"]), [1, 3, "x"]);
    assert.equal(a.byteLength, 0);
    assert.equal(b.byteLength, 0);
  } finally {
    close();
  }
});

Deno.test("a returned Uint8Array is transferred to the caller", async () => {
  const kept: Uint8Array[] = [];
  const { client, close } = pair({
    get: () => {
      const u = new Uint8Array([9, 8, 7]);
      kept.push(u);
      return u;
    },
  });
  try {
    const got = await client.call<Uint8Array>("get");
    assert.deepEqual(got, new Uint8Array([9, 8, 7]));
    assert.equal(kept[0].byteLength, 0, "the server's view is detached");
  } finally {
    close();
  }
});

Deno.test("pipelined calls each settle with their own response, in any answer order", async () => {
  const { client, close } = pair({
    slow: async (i: number, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      if (i % 5 === 0) throw new RangeError(`call ${i}`);
      return i * 10;
    },
  });
  try {
    const n = 50;
    const calls = Array.from({ length: n }, (_, i) => client.call<number>("slow", i, (n - i) % 7));
    assert.equal(client.pending, n);
    const results = await Promise.allSettled(calls);
    for (const [i, r] of results.entries()) {
      if (i % 5 === 0) {
        assert.equal(r.status, "rejected");
        assert.equal((r as PromiseRejectedResult).reason.message, `call ${i}`);
      } else {
        assert.deepEqual(r, { status: "fulfilled", value: i * 10 });
      }
    }
    assert.equal(client.pending, 0);
  } finally {
    close();
  }
});

Deno.test("close() rejects pending calls and later calls", async () => {
  const channel = new MessageChannel();
  serveRpc(channel.port2, "test", { never: () => new Promise(() => {}) });
  const client = new RpcClient(channel.port1);
  const pending = client.call("never");
  client.close(new Error("gone"));
  await assert.rejects(pending, /gone/);
  await assert.rejects(client.call("never"), /gone/);
  channel.port2.close();
});

Deno.test("a request of another protocol version is answered with a TypeError", async () => {
  const channel = new MessageChannel();
  serveRpc(channel.port2, "test", { m: () => 1 });
  const answer = new Promise<any>((r) => (channel.port1.onmessage = (e) => r(e.data)));
  channel.port1.postMessage({ v: 2, id: 1, method: "m", args: [] });
  const res = await answer;
  assert.equal(res.ok, false);
  assert.equal(res.error.name, "TypeError");
  channel.port1.close();
  channel.port2.close();
});
