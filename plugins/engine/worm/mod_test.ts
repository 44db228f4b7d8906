import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { startEngine } from "../engine_test_support.ts";

Deno.test("the worm engine's split() keeps a file whole up to 64 MiB, cuts it every 64 MiB, and reads only its sources", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  fs.writeFileSync(join(dir, "small"), new Uint8Array(100_000));
  fs.writeFileSync(join(dir, "empty"), "");
  const big = join(dir, "big");
  fs.closeSync(fs.openSync(big, "w"));
  fs.truncateSync(big, (64 << 20) * 2 + 5); // sparse: split() reads the size, not the bytes
  const h = await startEngine("worm", dir);
  try {
    assert.deepEqual(
      await h.call("split", [join(dir, "small"), join(dir, "empty"), big]),
      [[100_000], [], [64 << 20, 64 << 20, 5]],
    );
    await assert.rejects(h.call("split", ["/etc/hostname"]), Deno.errors.NotCapable);
    await assert.rejects(
      startEngine("worm", dir, { options: { part: 1 } }),
      /engine "worm" takes no engine_config: unknown key "part"/,
    );
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
