import assert from "node:assert/strict";
import { bucketAndKey, classify, forwardedHeaders, Refusal } from "./rules.ts";

const scope = { bucket: "backups", keyPrefix: "laptop/" };
const ID = "ab".repeat(32);

function ask(method: string, key: string, query = "", headers: Record<string, string> = {}) {
  return classify(scope, {
    method,
    bucket: "backups",
    key,
    query: new URLSearchParams(query),
    headers: new Headers(headers),
  });
}

function refusedAs(code: string, f: () => unknown): void {
  assert.throws(f, (e) => e instanceof Refusal && e.code === code);
}

Deno.test("classify allows the ingest role's operations under the prefix", () => {
  assert.equal(ask("PUT", `laptop/packs/${ID}`, "x-id=PutObject").operation, "PutObject");
  assert.equal(ask("POST", `laptop/index/${ID}`, "uploads").operation, "CreateMultipartUpload");
  assert.equal(
    ask("PUT", `laptop/packs/${ID}`, "partNumber=1&uploadId=u").operation,
    "UploadPart",
  );
  assert.equal(
    ask("POST", `laptop/packs/${ID}`, "uploadId=u").operation,
    "CompleteMultipartUpload",
  );
  assert.equal(ask("DELETE", `laptop/packs/${ID}`, "uploadId=u").operation, "AbortMultipartUpload");
  assert.equal(ask("GET", "", "list-type=2&prefix=laptop/packs/").operation, "ListObjectsV2");
  assert.equal(ask("GET", "laptop/config").operation, "GetObject");
  assert.equal(ask("HEAD", `laptop/keys/${ID}`).operation, "HeadObject");
});

Deno.test("classify refuses what an ingest client may not do, whatever it is dressed as", () => {
  refusedAs("AccessDenied", () => ask("DELETE", `laptop/packs/${ID}`));
  refusedAs("AccessDenied", () => ask("POST", "", "delete"));
  refusedAs("AccessDenied", () => ask("PUT", "laptop/config"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/keys/${ID}`));
  refusedAs("AccessDenied", () => ask("POST", `laptop/keys/${ID}`, "uploads"));
  refusedAs("AccessDenied", () => ask("GET", `laptop/packs/${ID}`));
  refusedAs("AccessDenied", () => ask("HEAD", `laptop/meta/${ID}`));
  refusedAs("AccessDenied", () => ask("GET", `laptop/index/${ID}`, "versionId=3"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/index/${ID}`, "versionId=3"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/index/${ID}`, "tagging"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/index/${ID}`, "acl"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/index/${ID}`, "retention"));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/index/${ID}`, "legal-hold"));
  refusedAs("AccessDenied", () => ask("POST", `laptop/packs/${ID}`, "restore"));
  refusedAs("AccessDenied", () => ask("GET", "", "versions"));
  refusedAs("AccessDenied", () => ask("GET", "", "list-type=2&prefix=other/"));
  for (
    const h of [
      "x-amz-copy-source",
      "x-amz-acl",
      "x-amz-grant-full-control",
      "x-amz-tagging",
      "x-amz-object-lock-mode",
      "x-amz-object-lock-legal-hold",
      "x-amz-bypass-governance-retention",
      "x-amz-write-offset-bytes",
      "if-match",
    ]
  ) {
    refusedAs("AccessDenied", () => ask("PUT", `laptop/packs/${ID}`, "", { [h]: "x" }));
    refusedAs("AccessDenied", () => ask("PUT", `laptop/packs/${ID}`, `${h}=x`));
  }
  refusedAs("NotImplemented", () => ask("PUT", "", "versioning"));
  refusedAs("NotImplemented", () => ask("GET", "", "policy"));
  refusedAs("MethodNotAllowed", () => ask("PATCH", `laptop/packs/${ID}`));
  refusedAs(
    "NoSuchBucket",
    () =>
      classify(scope, {
        method: "GET",
        bucket: "other",
        key: "laptop/config",
        query: new URLSearchParams(),
        headers: new Headers(),
      }),
  );
});

Deno.test("forwardedHeaders sets If-None-Match: * on every create and passes only what a create needs", () => {
  const client = new Headers({
    "if-none-match": "not-star",
    "x-amz-storage-class": "DEEP_ARCHIVE",
    "x-amz-meta-sha256": "00",
    "x-amz-checksum-sha256": "abc=",
    "x-amz-server-side-encryption-customer-key": "k",
    "x-amz-website-redirect-location": "/x",
  });
  assert.deepEqual(forwardedHeaders("PutObject", client), {
    "if-none-match": "*",
    "x-amz-storage-class": "DEEP_ARCHIVE",
    "x-amz-meta-sha256": "00",
    "x-amz-checksum-sha256": "abc=",
  });
  assert.equal(forwardedHeaders("CompleteMultipartUpload", new Headers())["if-none-match"], "*");
  assert.equal(forwardedHeaders("UploadPart", new Headers())["if-none-match"], undefined);
});

Deno.test("bucketAndKey reads the bucket from a virtual host name or from the path", () => {
  assert.deepEqual(bucketAndKey("backups", "backups.gw.example:9000", "/laptop/config"), {
    bucket: "backups",
    key: "laptop/config",
  });
  assert.deepEqual(bucketAndKey("backups", "gw.example", "/backups/laptop/a%20b"), {
    bucket: "backups",
    key: "laptop/a b",
  });
  assert.deepEqual(bucketAndKey("backups", "127.0.0.1:9000", "/backups"), {
    bucket: "backups",
    key: "",
  });
});

Deno.test("classify refuses a key with a dot segment, which a forwarded URL would resolve elsewhere", () => {
  refusedAs("AccessDenied", () => ask("PUT", `laptop/mirror/../keys/${ID}`));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/mirror/a/../../../other/packs/${ID}`));
  refusedAs("AccessDenied", () => ask("GET", `laptop/mirror/../.permafrost/manifest-x.json`));
  refusedAs("AccessDenied", () => ask("PUT", `laptop/mirror/./x`));
});

Deno.test("classify refuses a query parameter given twice, and an UploadPart without an uploadId", () => {
  refusedAs(
    "AccessDenied",
    () => ask("PUT", `laptop/snapshots/${ID}`, "partNumber=1&partNumber=2"),
  );
  refusedAs("AccessDenied", () => ask("PUT", `laptop/snapshots/${ID}`, "partNumber=1"));
  refusedAs("AccessDenied", () => ask("GET", "", "list-type=2&prefix=laptop/&prefix=other/"));
  refusedAs("AccessDenied", () => ask("POST", `laptop/packs/${ID}`, "uploadId=a&uploadId=b"));
});
