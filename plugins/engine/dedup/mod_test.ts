import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { startPlugin } from "../../../host/plugin/sandbox.ts";
import { Chunker } from "./fastcdc.ts";

const gear = Array.from({ length: 256 }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0);
const config = {
  gear,
  chunker: { min: 1024, avg: 4096, max: 16384 },
  blobLimit: 1 << 30,
  filter: false,
  excludeIfPresent: [],
  options: {},
};

Deno.test("the dedup engine's split() gives the chunk lengths FastCDC cuts each file into, reading only its sources", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const data = new Uint8Array(100_000).map((_, i) => (i * 7919) % 251);
  fs.writeFileSync(join(dir, "f"), data);
  fs.writeFileSync(join(dir, "empty"), "");
  const h = await startPlugin({ kind: "engine", name: "dedup", vars: { $sources: [dir] }, config });
  try {
    const chunker = new Chunker(Uint32Array.from(gear), config.chunker);
    const expected = [...chunker.push(data), ...chunker.finish()].map((c) => c.length);
    assert.ok(expected.length > 3);
    assert.deepEqual(await h.call("split", [join(dir, "f"), join(dir, "empty")]), [expected, []]);
    await assert.rejects(h.call("split", ["/etc/hostname"]), Deno.errors.NotCapable);
  } finally {
    await h.close();
  }
});

Deno.test("the dedup engine refuses at start-up an engine_config key and a config it cannot use", async () => {
  const start = (c: unknown) =>
    startPlugin({ kind: "engine", name: "dedup", vars: { $sources: ["/nonexistent"] }, config: c });
  await assert.rejects(
    start({ ...config, options: { level: 3 } }),
    /engine "dedup" takes no engine_config: unknown key "level"/,
  );
  await assert.rejects(start({ ...config, gear: [1, 2] }), /"gear" must be 256/);
  await assert.rejects(start({ ...config, blobLimit: 8192 }), /over the blob limit 8192/);
  await assert.rejects(
    start({ ...config, chunker: { min: 4096, avg: 4096, max: 16384 } }),
    RangeError,
  );
});
