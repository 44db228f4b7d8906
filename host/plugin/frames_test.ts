import assert from "node:assert/strict";
import { encodeFrame, type Frame, readFrames } from "./frames.ts";

/** A stream that yields `bytes` cut into pieces of `size`. */
function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += size));
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of readFrames(stream)) out.push(f);
  return out;
}

Deno.test("frames cut anywhere by the pipe come out whole, bytes and errors as sent", async () => {
  const sent: Frame[] = [
    [0, { type: "ready", v: 1 }],
    [1, { v: 1, id: 7, method: "sink", args: [new Uint8Array(100_000).fill(9)] }],
    [2, { v: 1, id: 8, ok: false, error: { name: "NotCapable", message: "no" } }],
  ];
  const bytes = new Uint8Array(sent.flatMap(([c, m]) => [...encodeFrame(c, m)]));
  for (const size of [1, 3, 4, 5, 4096, bytes.length]) {
    assert.deepEqual(await collect(streamOf(bytes, size)), sent, `pieces of ${size}`);
  }
});

Deno.test("a stream that is not frames, or ends inside one, is a TypeError", async () => {
  const garbage = new TextEncoder().encode("hello from a plugin's console.log\n");
  await assert.rejects(collect(streamOf(garbage, 8)), TypeError);
  const cut = encodeFrame(1, { v: 1 }).subarray(0, 6);
  await assert.rejects(collect(streamOf(cut, 2)), /ended inside a frame/);
});
