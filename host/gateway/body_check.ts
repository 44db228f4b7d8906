/**
 * The body of an upload, checked while it streams through the gateway: against the SHA-256
 * the client signed (`x-amz-content-sha256`), or, for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`,
 * decoded from `aws-chunked` with every chunk's chained signature verified (`sigv4.ts`).
 *
 * Nothing unchecked reaches the real endpoint whole: the last piece of the body is held back
 * until the check passes at the end, and a failed check errors the stream instead, so the
 * forwarded request ends short of its `Content-Length` and S3 discards it. Memory: one piece of
 * the client's stream (a chunk of at most {@link MAX_CHUNK} for `aws-chunked`), never the body.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { concatBytes } from "../crypto/bytes.ts";
import { chunkSignature, type PayloadCheck, sameHex, SignatureError } from "./sigv4.ts";

/** The largest `aws-chunked` chunk accepted (the SDKs send 64 KiB; the CLI up to 1 MiB). */
export const MAX_CHUNK = 16 << 20;

/** A body check failed: the S3 error code and a sentence for the client. */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * `body` as it is to be forwarded, checked as `payload` says, and its length: `length` is the
 * declared `Content-Length` (for `aws-chunked`, `x-amz-decoded-content-length`).
 */
export function checkedBody(
  body: ReadableStream<Uint8Array>,
  payload: PayloadCheck,
  length: number,
): ReadableStream<Uint8Array> {
  const check = payload.kind === "streaming"
    ? awsChunkedDecoder(payload, length)
    : hashCheck(payload.kind === "sha256" ? payload.hex : undefined, length);
  return clientBody(body).pipeThrough(check);
}

/** `body`, with a failed read (the client's connection ended early) as a {@link BodyError}. */
function clientBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      let next;
      try {
        next = await reader.read();
      } catch {
        throw new BodyError(
          "IncompleteBody",
          "the client's connection ended before its body did; nothing was stored",
        );
      }
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Counts (and with `hex`, hashes) the bytes; the last piece waits for the verdict. */
function hashCheck(hex: string | undefined, length: number): TransformStream<Uint8Array> {
  const hash = hex === undefined ? undefined : createHash("sha256");
  let held: Uint8Array | undefined;
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > length) throw tooLong(length);
      hash?.update(chunk);
      if (held !== undefined) controller.enqueue(held);
      held = chunk;
    },
    flush(controller) {
      if (total !== length) throw short(total, length);
      if (hash !== undefined && !sameHex(hash.digest("hex"), hex!)) {
        throw new BodyError(
          "XAmzContentSHA256Mismatch",
          "the body's SHA-256 is not the x-amz-content-sha256 the request signed: " +
            "it was changed on the way; nothing was stored",
        );
      }
      if (held !== undefined) controller.enqueue(held);
    },
  });
}

/**
 * Decodes `aws-chunked` (`HEX;chunk-signature=SIG\r\nDATA\r\n` ..., ending with a chunk of
 * size 0), verifying each signature before the chunk's data goes on; the last data chunk goes
 * on only once the final, empty chunk's signature verified.
 */
function awsChunkedDecoder(
  check: Extract<PayloadCheck, { kind: "streaming" }>,
  length: number,
): TransformStream<Uint8Array> {
  let pending: Uint8Array = new Uint8Array(0);
  let previous = check.seedSignature;
  let held: Uint8Array | undefined;
  let total = 0;
  let done = false;
  const next = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (;;) {
      if (done) return;
      const eol = indexOfCrlf(pending);
      if (eol < 0) {
        if (pending.byteLength > 256) throw badChunk("a chunk header is too long");
        return;
      }
      const header = new TextDecoder().decode(pending.subarray(0, eol));
      const m = /^([0-9a-fA-F]{1,8});chunk-signature=([0-9a-f]{64})$/.exec(header);
      if (!m) throw badChunk(`"${header.slice(0, 80)}" is not a chunk header`);
      const size = parseInt(m[1], 16);
      if (size > MAX_CHUNK) throw badChunk(`a chunk of ${size} bytes is over ${MAX_CHUNK}`);
      const start = eol + 2;
      if (pending.byteLength < start + size + 2) return; // wait for the whole chunk
      const data = pending.slice(start, start + size);
      if (pending[start + size] !== 13 || pending[start + size + 1] !== 10) {
        throw badChunk("a chunk does not end with CRLF");
      }
      pending = pending.subarray(start + size + 2);
      const hex = createHash("sha256").update(data).digest("hex");
      const expected = chunkSignature(check, previous, hex);
      if (!sameHex(expected, m[2])) {
        throw new SignatureError(
          "SignatureDoesNotMatch",
          "a chunk's signature does not match: the body was changed on the way; nothing was stored",
        );
      }
      previous = expected;
      total += size;
      if (total > length) throw tooLong(length);
      if (size === 0) {
        done = true;
        if (held !== undefined) controller.enqueue(held);
        held = undefined;
        return;
      }
      if (held !== undefined) controller.enqueue(held);
      held = data;
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      pending = pending.byteLength === 0 ? chunk : concatBytes([pending, chunk]);
      next(controller);
    },
    flush() {
      if (!done) throw badChunk("the body ended before its final, empty chunk");
      if (total !== length) throw short(total, length);
    },
  });
}

function indexOfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.byteLength; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return -1;
}

function badChunk(why: string): BodyError {
  return new BodyError("IncompleteBody", `the aws-chunked body is not valid: ${why}`);
}

function tooLong(length: number): BodyError {
  return new BodyError("IncompleteBody", `the body is longer than the ${length} bytes declared`);
}

function short(total: number, length: number): BodyError {
  return new BodyError(
    "IncompleteBody",
    `the body ended after ${total} of the ${length} bytes declared`,
  );
}
