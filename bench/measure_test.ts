import assert from "node:assert/strict";
import { measure, POLL_MS } from "./measure.ts";

Deno.test("measure() reports the exit code, output and a peak RSS covering what the child used", async () => {
  // Held for a few polls: without GNU time the peak comes only from sampling /proc every
  // POLL_MS, and a child that exits at once may never be sampled.
  const code = "const a = new Uint8Array(300 << 20).fill(1); console.log(a[5]); " +
    `await new Promise((r) => setTimeout(r, ${4 * POLL_MS})); Deno.exit(3);`;
  const m = await measure({ cmd: Deno.execPath(), args: ["eval", code] });
  assert.equal(m.code, 3);
  assert.equal(m.stdout.trim(), "1");
  assert.ok(m.seconds > 0);
  if (Deno.build.os === "linux") {
    assert.ok(m.peakRssBytes >= 300 << 20, `peak ${m.peakRssBytes} from ${m.rssSource}`);
    assert.ok(m.peakRssBytes < 1 << 30, `peak ${m.peakRssBytes} from ${m.rssSource}`);
  }
  const missing = await measure({ cmd: "/nonexistent/permafrost-bench-tool", args: [] });
  assert.notEqual(missing.code, 0);
});
