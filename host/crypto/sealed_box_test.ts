import assert from "node:assert/strict";
import sodium from "libsodium-wrappers-sumo";
import { IntegrityError } from "./errors.ts";
import {
  generateKeyPair,
  openSealed,
  publicKeyOf,
  SEALED_BOX_OVERHEAD,
  sealTo,
} from "./sealed_box.ts";

const message = new Uint8Array(32).fill(9);

Deno.test("sealTo() output opens with the recipient's key pair only", () => {
  const r = generateKeyPair();
  const sealed = sealTo(r.publicKey, message);
  assert.equal(sealed.length, 32 + SEALED_BOX_OVERHEAD);
  assert.deepEqual(openSealed(sealed, r.publicKey, r.privateKey), message);
  const other = generateKeyPair();
  assert.throws(() => openSealed(sealed, other.publicKey, other.privateKey), IntegrityError);
});

Deno.test("openSealed() of an altered box throws IntegrityError", () => {
  const r = generateKeyPair();
  const sealed = sealTo(r.publicKey, message);
  sealed[40] ^= 1;
  assert.throws(() => openSealed(sealed, r.publicKey, r.privateKey), IntegrityError);
  assert.throws(
    () => openSealed(sealed.subarray(0, 47), r.publicKey, r.privateKey),
    IntegrityError,
  );
});

Deno.test("sealTo() with a fixed ephemeral key is deterministic and libsodium opens it", () => {
  const r = generateKeyPair();
  const eph = new Uint8Array(32).fill(5);
  const a = sealTo(r.publicKey, message, eph);
  assert.deepEqual(a, sealTo(r.publicKey, message, eph));
  assert.deepEqual(a.subarray(0, 32), publicKeyOf(eph));
  assert.deepEqual(sodium.crypto_box_seal_open(a, r.publicKey, r.privateKey), message);
});

Deno.test("publicKeyOf() gives the public key generateKeyPair() paired with the private key", () => {
  const r = generateKeyPair();
  assert.deepEqual(publicKeyOf(r.privateKey), r.publicKey);
});
