import assert from "node:assert/strict";
import { connectEngineHost } from "./engine_host.ts";
import type { EngineConfig } from "./engine_types.ts";
import type { PluginContext } from "./plugin.ts";
import type { RpcClient } from "./rpc.ts";

const config = { filter: false } as EngineConfig;

/** A context whose capabilities answer `call(method)` with `answer(capability, method)`. */
function context(answer: (capability: string, method: string) => Promise<unknown>) {
  const calls: string[] = [];
  const ctx = {
    capability: (name: string) =>
      ({
        call: (method: string) => {
          calls.push(`${name}.${method}`);
          return answer(name, method);
        },
      }) as unknown as RpcClient,
  } as PluginContext;
  return { ctx, calls };
}

Deno.test("connectEngineHost's flush rejects with a failed cache record, warning or progress call nobody awaited", async () => {
  for (const failing of ["cache.record", "report.warn", "report.progress"]) {
    const cause = new Error(`the file cache "cache.sqlite" could not be written: disk full`);
    const { ctx, calls } = context((capability, method) =>
      `${capability}.${method}` === failing ? Promise.reject(cause) : Promise.resolve(undefined)
    );
    const { host, flush } = connectEngineHost(ctx, config);
    host.warn("/src/a", "cannot open");
    for (let i = 0; i < 600; i++) {
      host.cacheRecord({
        path: `/src/${i}`,
        size: 1,
        mtime: "1",
        ctime: "1",
        inode: "1",
        content: [],
      });
    }
    host.progress(1, 1, "/src/a");
    await assert.rejects(flush(), cause, failing);
    assert.ok(calls.includes(failing), failing);
  }
});

Deno.test("connectEngineHost's flush sends the records still batched and resolves when every call succeeded", async () => {
  const { ctx, calls } = context(() => Promise.resolve(undefined));
  const { host, flush } = connectEngineHost(ctx, config);
  host.cacheRecord({ path: "/src/a", size: 1, mtime: "1", ctime: "1", inode: "1", content: [] });
  await flush();
  assert.deepEqual(calls, ["cache.record"]);
});
