import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { expectedETag, unquote } from "./etag.ts";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest();

Deno.test("expectedETag() is the MD5 of a single-PUT object", () => {
  const data = new TextEncoder().encode("hello");
  const rule = { multipartThreshold: 10, partSize: 4 };
  assert.equal(expectedETag(data, rule), md5(data).toString("hex"));
  assert.equal(
    expectedETag(new Uint8Array(0), rule),
    "d41d8cd98f00b204e9800998ecf8427e",
  );
});

Deno.test("expectedETag() of a multipart object is the MD5 of the part MD5s and the part count", () => {
  const MiB = 2 ** 20;
  const data = new Uint8Array(12 * MiB).map((_, i) => i * 31);
  // Parts of 5 MiB (S3's smallest), the last one 2 MiB.
  const parts = [
    data.subarray(0, 5 * MiB),
    data.subarray(5 * MiB, 10 * MiB),
    data.subarray(10 * MiB),
  ];
  const joined = new Uint8Array(48);
  parts.forEach((p, i) => joined.set(md5(p), i * 16));
  assert.equal(
    expectedETag(data, { multipartThreshold: 5 * MiB, partSize: 5 * MiB }),
    `${md5(joined).toString("hex")}-3`,
  );
});

Deno.test("unquote() strips the quotes (and a weak marker) S3 sends ETags in", () => {
  assert.equal(unquote('"abc-2"'), "abc-2");
  assert.equal(unquote('W/"abc"'), "abc");
  assert.equal(unquote(undefined), undefined);
});
