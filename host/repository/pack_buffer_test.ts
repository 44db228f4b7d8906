import assert from "node:assert/strict";
import { PackBuffer } from "./pack_buffer.ts";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("take() hands over the appended bytes in a buffer of exactly their length", () => {
  const b = new PackBuffer(1 << 20);
  b.append(bytes(100, 1));
  b.append(bytes(50_000, 2));
  assert.equal(b.length, 50_100);
  const out = b.take();
  assert.equal(out.length, 50_100);
  assert.equal(out.byteOffset, 0);
  assert.equal(out.buffer.byteLength, 50_100);
  assert.deepEqual(out.subarray(0, 100), bytes(100, 1));
  assert.deepEqual(out.subarray(100), bytes(50_000, 2));
});

Deno.test("a pack that runs past its expected size still holds every byte", () => {
  const b = new PackBuffer(4096);
  for (let i = 0; i < 10; i++) b.append(bytes(3000, i));
  const out = b.take();
  assert.equal(out.length, 30_000);
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(out.subarray(i * 3000, (i + 1) * 3000), bytes(3000, i));
  }
});

Deno.test("the taken bytes can be moved to a worker without a copy", async () => {
  const b = new PackBuffer(1 << 20);
  b.append(bytes(1000, 7));
  const out = b.take();
  const buffer = out.buffer as ArrayBuffer;
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<Uint8Array>((resolve) => port2.onmessage = (e) => resolve(e.data));
  port1.postMessage(out, [buffer]);
  const moved = await got;
  port1.close();
  port2.close();
  assert.equal(buffer.detached, true);
  assert.deepEqual(moved, bytes(1000, 7));
});
