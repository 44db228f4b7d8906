import assert from "node:assert/strict";
import { generateKeyPair } from "../crypto/sealed_box.ts";
import { IntegrityError } from "../crypto/errors.ts";
import {
  FramePlaintextChanged,
  openSealedObject,
  SEALED_FRAME_BYTES,
  sealedFrames,
  sealedSize,
  SealedWriter,
} from "./mirror_seal.ts";

const keys = generateKeyPair();

/** The plaintext the object `bytes` opens to, or the error it is refused with. */
async function open(
  bytes: Uint8Array,
  with_ = keys,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await openSealedObject(
    (offset, length) => Promise.resolve(bytes.slice(offset, offset + length)),
    bytes.length,
    with_,
    `file "f"`,
    (p) => void parts.push(p.slice()),
  );
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

Deno.test("a sealed mirror object has the size docs/format.md §8.1 gives and opens to its bytes, for an empty file, a short one and one of several frames", async () => {
  assert.equal(sealedSize(0), 120);
  assert.equal(sealedSize(5), 125);
  assert.equal(sealedFrames(SEALED_FRAME_BYTES), 1);
  assert.equal(sealedFrames(SEALED_FRAME_BYTES + 1), 2);
  for (const size of [0, 5, SEALED_FRAME_BYTES, 2 * SEALED_FRAME_BYTES + 7]) {
    const plain = new Uint8Array(size).map((_, i) => i * 7);
    const sealed = await new SealedWriter(keys.publicKey, size).whole(plain);
    assert.equal(sealed.length, sealedSize(size));
    assert.deepEqual([...sealed.subarray(0, 8)], [0x50, 0x46, 0x4d, 0x4f, 1, 0, 0, 0]);
    assert.deepEqual(await open(sealed), plain);
  }
});

Deno.test("a sealed mirror object does not open without its private key, nor with a wrong version, a flipped byte, a dropped, swapped or extra frame", async () => {
  const size = 2 * SEALED_FRAME_BYTES + 7;
  const sealed = await new SealedWriter(keys.publicKey, size).whole(new Uint8Array(size));
  const frame = 4 + SEALED_FRAME_BYTES + 28;
  const swapped = new Uint8Array(sealed);
  swapped.set(sealed.subarray(88 + frame, 88 + 2 * frame), 88);
  swapped.set(sealed.subarray(88, 88 + frame), 88 + frame);
  const flipped = new Uint8Array(sealed);
  flipped[sealed.length - 3] ^= 1;
  const version = new Uint8Array(sealed);
  version[4] = 2;
  const extra = new Uint8Array(sealed.length + frame);
  extra.set(sealed);
  extra.set(sealed.subarray(88, 88 + frame), sealed.length);
  const cases: [Uint8Array, RegExp, ReturnType<typeof generateKeyPair>?][] = [
    [sealed, /data key that does not open/, generateKeyPair()],
    [version, /version 2/],
    [flipped, /frame 2 does not authenticate as the final frame/],
    [sealed.subarray(0, 88 + 2 * frame), /frame 1 does not authenticate as the final frame/],
    [swapped, /frame 0 does not authenticate/],
    [extra, /frame 2 does not authenticate \(altered or reordered\)/],
    [sealed.subarray(0, sealed.length - 1), /frame 2 does not authenticate|ends inside frame 2/],
  ];
  for (const [bytes, expected, with_] of cases) {
    await assert.rejects(
      open(bytes, with_),
      (e: Error) =>
        e instanceof IntegrityError && /^file "f" /.test(e.message) && expected.test(e.message),
      String(expected),
    );
  }
});

Deno.test("a frame sealed again gives the same bytes for the same plaintext, and is refused for other plaintext before its nonce is used again", async () => {
  const writer = new SealedWriter(keys.publicKey, 10);
  const first = await writer.frame(0, new TextEncoder().encode("0123456789"));
  assert.deepEqual(await writer.frame(0, new TextEncoder().encode("0123456789")), first);
  await assert.rejects(
    () => writer.frame(0, new TextEncoder().encode("0123456780")),
    FramePlaintextChanged,
  );
});
