import assert from "node:assert/strict";
import { permanentError } from "../../plugins/storage/s3/s3_errors.ts";
import { explain } from "./explain.ts";

/** An S3 error response as the AWS SDK throws it. */
function s3Error(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/** What the CLI prints for the S3 plugin refusing `what` with AccessDenied. */
function refused(what: string): string {
  const e = permanentError(what, s3Error("AccessDenied", 403, "Access Denied"), "b");
  return explain(e).message;
}

Deno.test("explain() of S3 refusing config or keys names the request and that init and key passwd need the admin role", () => {
  for (const name of ["config", `keys/${"ab".repeat(32)}`]) {
    const message = refused(`PUT of object "${name}"`);
    assert.ok(message.startsWith(`PUT of object "${name}" was refused (AccessDenied`), message);
    assert.match(message, /the AWS credentials in use lack this permission/);
    assert.match(message, /`init` and `key passwd` need the admin role's credentials/);
    assert.match(message, /AWS_PROFILE, or \?profile=NAME/);
  }
});

Deno.test("explain() of S3 refusing a delete, a pack read or a restore names the role it needs", () => {
  const pack = `packs/${"cd".repeat(32)}`;
  assert.match(refused(`DELETE of object "${pack}"`), /; deleting needs the admin role's/);
  for (const what of [`GET of object "${pack}"`, `HEAD of object "meta/${"cd".repeat(32)}"`]) {
    assert.match(refused(what), /; reading backed-up data needs the reader or admin role's/);
  }
  assert.match(refused(`RESTORE of object "${pack}"`), /; restoring from cold storage needs/);
  // A refusal no role explains keeps the plugin's own advice, and nothing more.
  assert.match(refused(`PUT of object "${pack}"`), /check the IAM policy of the role[^;]*$/);
});

Deno.test("explain() of a local PermissionDenied adds no S3 advice", () => {
  const e = new Deno.errors.PermissionDenied(`Permission denied (os error 13): open "/x"`);
  assert.deepEqual(explain(e), { message: e.message, status: 1 });
});

Deno.test("explain() adds the generic check hint to an integrity error only when it names no command", () => {
  const plain = new Error('pack "ab" is damaged: a frame does not open');
  plain.name = "IntegrityError";
  assert.match(explain(plain).message, /run `permafrost check --read-data`/);
  const named = new Error(
    'pack "ab" is damaged; run `permafrost check --read-data-subset 1@7` to read just that pack',
  );
  named.name = "IntegrityError";
  assert.equal(explain(named).message, named.message);
});
