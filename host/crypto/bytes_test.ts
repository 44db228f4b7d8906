import assert from "node:assert/strict";
import { bytesEqual, concatBytes, fromUtf8, u32le, utf8, viewOf } from "./bytes.ts";

Deno.test("concatBytes() joins parts in order", () => {
  assert.deepEqual(
    concatBytes([new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]),
    new Uint8Array([1, 2, 3]),
  );
});

Deno.test("u32le() writes little-endian and refuses values outside 32 bits", () => {
  assert.deepEqual(u32le(0x01020304), new Uint8Array([4, 3, 2, 1]));
  assert.throws(() => u32le(2 ** 32), RangeError);
  assert.throws(() => u32le(-1), RangeError);
});

Deno.test("fromUtf8() refuses malformed UTF-8 instead of replacing it", () => {
  assert.equal(fromUtf8(utf8("h\u00e9")), "h\u00e9");
  assert.throws(() => fromUtf8(new Uint8Array([0x68, 0xff])), TypeError);
});

Deno.test("viewOf() views exactly the subarray's bytes", () => {
  const whole = new Uint8Array([9, 9, 1, 0, 0, 0]);
  assert.equal(viewOf(whole.subarray(2)).getUint32(0, true), 1);
});

Deno.test("bytesEqual() compares contents and lengths", () => {
  assert.ok(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0])));
});
