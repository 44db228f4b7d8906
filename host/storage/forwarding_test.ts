import assert from "node:assert/strict";
import { ForwardingStorage } from "./forwarding.ts";
import type { Storage } from "./storage.ts";

Deno.test("ForwardingStorage passes every call of the contract, and the properties, to its store", async () => {
  const calls: string[] = [];
  const inner = new Proxy({ properties: { coldStates: true } }, {
    get: (target, key) =>
      key === "properties" ? target.properties : (...args: unknown[]) => {
        calls.push(`${String(key)}:${args.length > 0 ? String(args[0]) : ""}`);
        return Promise.resolve(undefined);
      },
  }) as unknown as Storage;
  const s = new ForwardingStorage(inner);
  assert.deepEqual(s.properties, { coldStates: true });
  await s.create("a", new Uint8Array(1));
  await s.read("b");
  await s.stat("c");
  await s.list("d");
  await s.requestRestore("e", { tier: "bulk", days: 1 });
  await s.delete("f");
  await s.strays();
  await s.removeStray("g");
  await s.close();
  assert.deepEqual(calls, [
    "create:a",
    "read:b",
    "stat:c",
    "list:d",
    "requestRestore:e",
    "delete:f",
    "strays:",
    "removeStray:g",
    "close:",
  ]);
});
