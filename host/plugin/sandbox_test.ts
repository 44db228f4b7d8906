import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CapabilityRefused, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { type StartOptions, startPlugin } from "./sandbox.ts";
import { ManifestError } from "./manifest.ts";

const probeDir = fileURLToPath(new URL("../../test/fixtures/plugins/probe/", import.meta.url));
const sdkUrl = new URL("../../plugins/sdk/mod.ts", import.meta.url).href;

async function withProbe(
  fn: (h: Awaited<ReturnType<typeof startPlugin>>, source: string) => Promise<void>,
  opts: Partial<StartOptions> = {},
): Promise<void> {
  const source = await Deno.makeTempDir({ prefix: "pf-probe-" });
  await Deno.writeTextFile(join(source, "inside.txt"), "inside");
  const h = await startPlugin({
    kind: "engine",
    dir: probeDir,
    vars: { $sources: [source] },
    ...opts,
  });
  try {
    await fn(h, source);
  } finally {
    await h.close();
    await Deno.remove(source, { recursive: true });
  }
}

Deno.test("a probe engine can read a file inside its source", async () => {
  await withProbe(async (h, source) => {
    const bytes = await h.call<Uint8Array>("readFile", join(source, "inside.txt"));
    assert.equal(new TextDecoder().decode(bytes), "inside");
  });
});

Deno.test("a probe engine cannot read outside its source (NotCapable)", async () => {
  const outside = await Deno.makeTempFile();
  try {
    await withProbe(async (h) => {
      await assert.rejects(h.call("readFile", outside), Deno.errors.NotCapable);
    });
  } finally {
    await Deno.remove(outside);
  }
});

Deno.test("a probe engine cannot write, not even inside its source", async () => {
  await withProbe(async (h, source) => {
    const target = join(source, "written.txt");
    await assert.rejects(h.call("writeFile", target, new Uint8Array([1])), Deno.errors.NotCapable);
    await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
  });
});

Deno.test("a probe engine cannot reach the network", async () => {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    hits++;
    return new Response("reached");
  });
  try {
    await withProbe(async (h) => {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      await assert.rejects(h.call("fetchUrl", url), Deno.errors.NotCapable);
    });
    assert.equal(hits, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a probe engine cannot read the environment", async () => {
  await withProbe(async (h) => {
    await assert.rejects(h.call("getEnv", "HOME"), Deno.errors.NotCapable);
  });
});

Deno.test("a policy that removes read leaves the engine unable to read its source", async () => {
  await withProbe(async (h, source) => {
    assert.equal(h.permissions.read, false);
    await assert.rejects(h.call("readFile", join(source, "inside.txt")), Deno.errors.NotCapable);
  }, { policy: { permissions: { read: [] } } });
});

Deno.test("startPlugin() refuses a plugin the policy denies", async () => {
  await assert.rejects(
    startPlugin({
      kind: "engine",
      dir: probeDir,
      vars: { $sources: ["/"] },
      policy: { deny: true },
    }),
    CapabilityRefused,
  );
});

Deno.test("startPlugin() refuses a plugin whose manifest kind differs from the one asked", async () => {
  await assert.rejects(
    startPlugin({ kind: "storage", dir: probeDir, vars: { $sources: ["/"] } }),
    ManifestError,
  );
});

Deno.test("a capability the host did not offer is refused with CapabilityRefused", async () => {
  await withProbe(async (h) => {
    assert.deepEqual(h.capabilities, []);
    await assert.rejects(h.call("useCapability", "blobs", "has", "x"), (e: Error) => {
      assert.ok(e instanceof CapabilityRefused);
      assert.match(e.message, /capability "blobs" was not granted to plugin "probe"/);
      return true;
    });
  });
});

Deno.test("a capability the manifest does not declare is not handed over", async () => {
  const calls: string[] = [];
  await withProbe(async (h) => {
    assert.deepEqual(h.capabilities, []);
    await assert.rejects(h.call("useCapability", "secrets", "get"), CapabilityRefused);
    assert.deepEqual(calls, []);
  }, { capabilities: { secrets: { get: () => calls.push("get") } } });
});

Deno.test("a method a granted capability does not have is refused with CapabilityRefused", async () => {
  const stored: string[] = [];
  await withProbe(async (h) => {
    assert.deepEqual(h.capabilities, ["blobs"]);
    assert.equal(await h.call("useCapability", "blobs", "has", "abc"), false);
    await assert.rejects(h.call("useCapability", "blobs", "delete", "abc"), (e: Error) => {
      assert.ok(e instanceof CapabilityRefused);
      assert.match(e.message, /capability "blobs" does not grant "delete"/);
      return true;
    });
    await assert.rejects(h.call("useCapability", "blobs", "toString"), CapabilityRefused);
    assert.deepEqual(stored, ["has abc"]);
  }, { capabilities: { blobs: { has: (id: string) => (stored.push(`has ${id}`), false) } } });
});

Deno.test("a capability call carries bytes to the host and errors back with their class", async () => {
  let got: Uint8Array | undefined;
  await withProbe(async (h) => {
    assert.equal(await h.call("useCapability", "blobs", "put", new Uint8Array([7, 8])), 2);
    assert.deepEqual(got, new Uint8Array([7, 8]));
    await assert.rejects(h.call("useCapability", "blobs", "get", "zz"), ObjectNotFound);
  }, {
    capabilities: {
      blobs: {
        put: (data: Uint8Array) => (got = data, data.length),
        get: (id: string) => {
          throw new ObjectNotFound(`blob "${id}" not found`);
        },
      },
    },
  });
});

Deno.test("a plugin method the manifest does not list is refused with CapabilityRefused", async () => {
  await withProbe(async (h) => {
    await assert.rejects(h.call("rm", "-rf"), /plugin "probe" has no method "rm"/);
  });
});

Deno.test("an error thrown by a plugin method keeps its class and message", async () => {
  await withProbe(async (h) => {
    await assert.rejects(h.call("fail", "ObjectNotFound", `object "x" not found`), (e: Error) => {
      assert.ok(e instanceof ObjectNotFound);
      assert.equal(e.message, `object "x" not found`);
      return true;
    });
  });
});

Deno.test("the plugin receives its config", async () => {
  await withProbe(async (h) => {
    const r = await h.call<{ args: unknown[]; config: unknown }>("echo", 1, "two");
    assert.deepEqual(r, { args: [1, "two"], config: { answer: 42 } });
  }, { config: { answer: 42 } });
});

/** `p`, or a rejection if it has not settled within `ms`: a hang fails the test. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing happened within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// Deno prints the worker's uncaught error to stderr here; that line is expected.
Deno.test("after a plugin crashes, its pending and later calls reject instead of hanging", async () => {
  await withProbe(async (h) => {
    // The probe's "crash" never answers: only the crash settles the call.
    await assert.rejects(within(h.call("crash"), 10_000), /plugin "probe" crashed/);
    await assert.rejects(h.call("echo"), /plugin "probe" crashed/);
  });
});

Deno.test("a closed plugin rejects further calls", async () => {
  await withProbe(async (h) => {
    await h.close();
    await assert.rejects(h.call("echo"), /plugin "probe" is closed/);
  });
});

async function writePlugin(
  methods: string[],
  body: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pf-plugin-" });
  await Deno.writeTextFile(
    join(dir, "plugin.json"),
    JSON.stringify({
      name: "tmp",
      kind: "filter",
      api: 1,
      entry: "mod.ts",
      permissions: {},
      capabilities: [],
      methods,
    }),
  );
  await Deno.writeTextFile(
    join(dir, "mod.ts"),
    `import { servePlugin } from ${JSON.stringify(sdkUrl)};\n${body}\n`,
  );
  return dir;
}

Deno.test("startPlugin() rejects a plugin that lists a method it does not serve", async () => {
  const dir = await writePlugin(["match", "extra"], `servePlugin(() => ({ match: () => [] }));`);
  try {
    await assert.rejects(
      startPlugin({ kind: "filter", dir }),
      /plugin "tmp" failed to start: plugin "tmp" lists method "extra" but does not serve it/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startPlugin() rejects with the class of the error the plugin's setup threw", async () => {
  const dir = await writePlugin(
    ["match"],
    `servePlugin(() => { throw new RangeError("bad config"); });`,
  );
  try {
    await assert.rejects(startPlugin({ kind: "filter", dir }), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startPlugin() rejects a plugin that never answers init, after the timeout", async () => {
  const dir = await writePlugin(["match"], `// never calls servePlugin`);
  try {
    await assert.rejects(
      startPlugin({ kind: "filter", dir, timeoutMs: 300 }),
      /plugin "tmp" did not start within 300 ms/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
