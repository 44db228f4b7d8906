import assert from "node:assert/strict";
import { describeError, permanentError } from "./s3_errors.ts";

function s3Error(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

Deno.test("describeError() names a bodiless error response (every HEAD) by its status", () => {
  assert.equal(describeError(s3Error("Unknown", 403, "UnknownError")), "Forbidden (HTTP 403)");
  assert.equal(describeError(s3Error("Unknown", 418, "UnknownError")), "no error code (HTTP 418)");
  assert.equal(
    describeError(s3Error("SlowDown", 503, "Please reduce your request rate")),
    "SlowDown (HTTP 503): Please reduce your request rate",
  );
});

Deno.test("permanentError() turns a 403 into PermissionDenied naming the request", () => {
  const e = permanentError('HEAD of object "config"', s3Error("Unknown", 403, "UnknownError"), "b");
  assert.ok(e instanceof Deno.errors.PermissionDenied);
  assert.equal(
    e.message,
    'HEAD of object "config" was refused (Forbidden (HTTP 403)): the AWS credentials in use ' +
      "lack this permission; check the IAM policy of the role they belong to (docs/s3.md §3)",
  );
});

Deno.test("describeError() of a certificate that does not verify says to set NODE_EXTRA_CA_CERTS", () => {
  const tls = Object.assign(new Error("unable to verify the first certificate"), {
    code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  });
  assert.match(describeError(tls), /NODE_EXTRA_CA_CERTS/);
  const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  assert.doesNotMatch(describeError(refused), /NODE_EXTRA_CA_CERTS/);
});
