import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { GatewayKeys } from "./gateway_keys.ts";

const noEnv = () => undefined;

Deno.test("gateway keys: the secret is shown once, stored only sealed in 0600 files, and removal revokes it", async () => {
  const dir = join(await Deno.makeTempDir(), "gateway");
  try {
    const keys = new GatewayKeys(dir, noEnv);
    const added = await keys.add("laptop");
    assert.match(added.id, /^PFGW[A-Z2-7]{16}$/);
    assert.equal(await keys.secretOf(added.id), added.secret);
    await assert.rejects(keys.add("laptop"), Deno.errors.AlreadyExists);
    for (const file of ["keys.json", "seal.key"]) {
      assert.equal((await Deno.stat(join(dir, file))).mode! & 0o777, 0o600, file);
    }
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    const stored = await Deno.readTextFile(join(dir, "keys.json"));
    assert.ok(!stored.includes(added.secret), "the secret is in keys.json in the clear");
    assert.deepEqual((await keys.list()).map((k) => k.name), ["laptop"]);

    // Another process (a running gateway) sees the removal at its next request.
    const gateway = new GatewayKeys(dir, noEnv);
    assert.equal(await gateway.secretOf(added.id), added.secret);
    await keys.remove("laptop");
    assert.equal(await gateway.secretOf(added.id), undefined);
    await assert.rejects(keys.remove("laptop"), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
});

Deno.test("gateway keys sealed under PERMAFROST_GATEWAY_SEAL_KEY do not open without it", async () => {
  const dir = join(await Deno.makeTempDir(), "gateway");
  try {
    const seal = "11".repeat(32);
    const withSeal = (n: string) => n === "PERMAFROST_GATEWAY_SEAL_KEY" ? seal : undefined;
    const added = await new GatewayKeys(dir, withSeal).add("ci");
    await assert.rejects(Deno.stat(join(dir, "seal.key")), Deno.errors.NotFound);
    assert.equal(await new GatewayKeys(dir, withSeal).secretOf(added.id), added.secret);
    const other = (n: string) => n === "PERMAFROST_GATEWAY_SEAL_KEY" ? "22".repeat(32) : undefined;
    await assert.rejects(new GatewayKeys(dir, other).secretOf(added.id));
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
});

Deno.test("gateway keys: adds and removes at once from separate writers all land, the first adds sharing one seal key", async () => {
  const dir = join(await Deno.makeTempDir(), "gateway");
  try {
    const names = ["a", "b", "c", "d", "e", "f"];
    const added = await Promise.all(names.map((n) => new GatewayKeys(dir, noEnv).add(n)));
    assert.deepEqual((await new GatewayKeys(dir, noEnv).list()).map((k) => k.name).sort(), names);
    const reader = new GatewayKeys(dir, noEnv);
    for (const k of added) assert.equal(await reader.secretOf(k.id), k.secret, k.name);

    await Promise.all([
      new GatewayKeys(dir, noEnv).remove("a"),
      new GatewayKeys(dir, noEnv).remove("b"),
      new GatewayKeys(dir, noEnv).add("g"),
    ]);
    assert.deepEqual(
      (await new GatewayKeys(dir, noEnv).list()).map((k) => k.name).sort(),
      ["c", "d", "e", "f", "g"],
    );
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
});
