import assert from "node:assert/strict";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { TransientError } from "../../sdk/mod.ts";
import { backoffMs, isTransient, retrying } from "./retry.ts";

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    message: name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

Deno.test("isTransient(): throttling, 5xx, 409 write conflicts and dropped connections are retried", () => {
  for (
    const e of [
      s3Error("SlowDown", 503),
      s3Error("ServiceUnavailable", 503),
      s3Error("InternalError", 500),
      s3Error("Unknown", 502),
      s3Error("TooManyRequestsException", 429),
      s3Error("RequestTimeout", 400),
      s3Error("ConditionalRequestConflict", 409),
      s3Error("OperationAborted", 409),
      networkError("ECONNRESET"),
      networkError("ECONNREFUSED"),
      Object.assign(new Error("socket timed out"), { name: "TimeoutError" }),
      new TransientError("body ended early"),
    ]
  ) {
    assert.ok(isTransient(e), `${e.name} ${(e as { code?: string }).code ?? ""}`);
  }
});

Deno.test("isTransient(): refusals, missing things and errors without a response are not", () => {
  for (
    const e of [
      s3Error("AccessDenied", 403),
      s3Error("NoSuchKey", 404),
      s3Error("PreconditionFailed", 412),
      s3Error("InvalidObjectState", 403),
      s3Error("NotImplemented", 501),
      networkError("ENOTFOUND"),
      new Deno.errors.NotCapable("Requires net access"),
      new TypeError("bad"),
      new Error("no AWS credentials"),
    ]
  ) {
    assert.ok(!isTransient(e), e.name);
  }
});

Deno.test("backoffMs() waits a random time up to an exponentially growing, capped ceiling", () => {
  const policy = { attempts: 8, baseMs: 100, maxMs: 1000 };
  assert.equal(backoffMs(1, policy, 0), 0);
  assert.equal(backoffMs(1, policy, 0.999), 99);
  assert.equal(backoffMs(3, policy, 0.5), 200);
  assert.equal(backoffMs(10, policy, 0.999), 999);
});

Deno.test("retrying() retries transient failures, then gives up with TransientError naming the request", async () => {
  const policy = { attempts: 3, baseMs: 1, maxMs: 2 };
  let tries = 0;
  assert.equal(
    await retrying('GET of object "config"', policy, () => {
      if (++tries < 3) throw s3Error("SlowDown", 503);
      return Promise.resolve("ok");
    }),
    "ok",
  );
  tries = 0;
  await assert.rejects(
    retrying('GET of object "config"', policy, () => {
      tries++;
      throw s3Error("SlowDown", 503);
    }),
    new TransientError(
      `GET of object "config" failed 3 times (last: SlowDown (HTTP 503): SlowDown); try again later`,
    ),
  );
  assert.equal(tries, 3);
  tries = 0;
  await assert.rejects(
    retrying("GET", policy, () => {
      tries++;
      throw s3Error("AccessDenied", 403);
    }),
    { name: "AccessDenied" },
  );
  assert.equal(tries, 1, "a permanent error is thrown at once");
});
