import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { startEngine } from "../engine_test_support.ts";
import { DEFAULT_BLOCK } from "./mod.ts";

const start = (dir: string, options: Record<string, unknown> = {}) =>
  startEngine("vm-delta", dir, { options });

Deno.test("the vm-delta engine's split() cuts a file into fixed blocks (64 KiB unless engine_config says otherwise) from its size alone, reading only its sources", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const image = join(dir, "disk.img");
  fs.closeSync(fs.openSync(image, "w"));
  fs.truncateSync(image, 3 * DEFAULT_BLOCK + 5); // sparse: split() reads the size, not the bytes
  fs.writeFileSync(join(dir, "empty"), "");
  const h = await start(dir);
  const small = await start(dir, { block: 4096 });
  try {
    assert.equal(DEFAULT_BLOCK, 64 << 10);
    assert.deepEqual(
      await h.call("split", [image, join(dir, "empty")]),
      [[DEFAULT_BLOCK, DEFAULT_BLOCK, DEFAULT_BLOCK, 5], []],
    );
    const blocks = (await small.call("split", [image]) as number[][])[0];
    assert.equal(blocks.length, 3 * 16 + 1);
    assert.ok(blocks.slice(0, -1).every((b) => b === 4096));
    await assert.rejects(h.call("split", ["/etc/hostname"]), Deno.errors.NotCapable);
  } finally {
    await h.close();
    await small.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the vm-delta engine refuses at start-up a block that is not a power of two from 4 KiB to 16 MiB, or over the blob limit, and any other engine_config key", async () => {
  const dir = "/nonexistent";
  for (const block of [1000, 2048, 3 << 12, 32 << 20, "64KiB", -4096]) {
    await assert.rejects(
      start(dir, { block }),
      /engine "vm-delta": engine_config "block" must be a power of two number of bytes from 4096 to 16777216/,
      String(block),
    );
  }
  await assert.rejects(
    startEngine("vm-delta", dir, { blobLimit: 8192, options: { block: 16384 } }),
    /block 16384 is over the blob limit 8192/,
  );
  await assert.rejects(
    start(dir, { max_chain: 3 }),
    /engine "vm-delta" takes only "block": unknown key "max_chain" in engine_config/,
  );
});
