import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { gearTable } from "./gear.ts";

const key = new Uint8Array(32).map((_, i) => 100 + i);

Deno.test("gearTable() is deterministic for one key", () => {
  const a = gearTable(key);
  assert.equal(a.length, 256);
  assert.deepEqual(a, gearTable(key.slice()));
});

Deno.test("gearTable() changes completely with the key", () => {
  const other = key.slice();
  other[0] ^= 1;
  const a = gearTable(key);
  const b = gearTable(other);
  let same = 0;
  for (let i = 0; i < 256; i++) if (a[i] === b[i]) same++;
  assert.ok(same < 4, `${same} entries unchanged`);
});

Deno.test("gearTable() entries are little-endian words of HMAC(key, label || u8 block)", () => {
  const block = (i: number) =>
    createHmac("sha256", key).update(
      new Uint8Array([...new TextEncoder().encode("permafrost gear v1"), i]),
    ).digest();
  const t = gearTable(key);
  assert.equal(t[0], block(0).readUInt32LE(0));
  assert.equal(t[9], block(1).readUInt32LE(4));
  assert.equal(t[255], block(31).readUInt32LE(28));
});

Deno.test("gearTable() entries are spread over the 32-bit range", () => {
  const t = gearTable(key);
  assert.ok(new Set(t).size > 250);
  assert.ok(t.some((v) => v > 0x80000000) && t.some((v) => v < 0x80000000));
});
