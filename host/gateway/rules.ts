/**
 * What the gateway lets through: each request named as one S3 operation on one key, or refused
 * with the S3 error that says why. Pure: no I/O, no signature (that is `sigv4.ts`, checked
 * first).
 *
 * Allowed, and only under the repository's prefix (docs/gateway.md):
 * - `PutObject`, `CreateMultipartUpload`, `UploadPart`, `CompleteMultipartUpload` of an object
 *   an ingest client may create (`ingestMayCreate`, host/repository/layout.ts: `packs/`,
 *   `meta/`, `index/`, `snapshots/`; never `config` or `keys/`), and `AbortMultipartUpload`;
 *   `PutObject` and `CompleteMultipartUpload` are forwarded with `If-None-Match: *` whatever
 *   the client sent (`forwardedHeaders`);
 * - `ListObjectsV2` with a prefix under the repository's;
 * - `GetObject` and `HeadObject` of an object an ingest client may read (`ingestMayRead`:
 *   `config`, `keys/`, `index/`, `snapshots/`; never `packs/` or `meta/`).
 *
 * Refused whatever else they ask: a query parameter given twice, a key with a `.` or `..`
 * segment (a URL would resolve it on the way), any `DELETE` but an abort, `POST ?delete`, copies
 * (`x-amz-copy-source`), ACLs, tagging, Object Lock and legal holds, version ids, conditional
 * overwrites (`If-Match`), appends, and every bucket-level call but the listing.
 *
 * @module
 */

import { ingestMayCreate, ingestMayRead } from "../repository/layout.ts";

export type Operation =
  | "PutObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListObjectsV2"
  | "HeadObject"
  | "GetObject";

/** A request the gateway forwards. */
export interface Allowed {
  operation: Operation;
  /** The object's key in the bucket (`""` for the listing). */
  key: string;
}

/** A request the gateway refuses: status, S3 error code, and a sentence. */
export class Refusal extends Error {
  override name = "Refusal";
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The one bucket and prefix the gateway serves. */
export interface Scope {
  bucket: string;
  /** `""` or a prefix ending in `/`. */
  keyPrefix: string;
}

/** What the gateway allows, for refusal messages. */
export function allowedSummary(scope: Scope): string {
  const under = scope.keyPrefix === "" ? "" : ` under "${scope.keyPrefix}"`;
  return `this gateway allows only create-only uploads of packs/, meta/, index/ and ` +
    `snapshots/ (PutObject, multipart uploads), ListObjectsV2, and GetObject or HeadObject of ` +
    `config, keys/, index/ and snapshots/, in bucket "${scope.bucket}"${under}`;
}

/** Headers that change what S3 does beyond a create-only write: refused on every request. */
const REFUSED_HEADERS: [RegExp, string][] = [
  [/^x-amz-copy-source/, "copies"],
  [/^x-amz-acl$|^x-amz-grant-/, "ACLs"],
  [/^x-amz-tagging/, "tagging"],
  [/^x-amz-object-lock-|^x-amz-bypass-governance-retention$/, "Object Lock settings"],
  [/^x-amz-metadata-directive$|^x-amz-website-redirect-location$/, "redirects and copies"],
  [/^x-amz-write-offset-bytes$/, "appends"],
  [/^if-match$/, "conditional overwrites (If-Match)"],
];

/** Query parameters that name something other than an object's current bytes. */
const REFUSED_QUERY = [
  "versionId",
  "versions",
  "acl",
  "tagging",
  "retention",
  "legal-hold",
  "delete",
  "restore",
  "select",
  "attributes",
  "torrent",
];

/**
 * Query parameters every operation may carry: the SDK's `x-id`, and presigned auth with the
 * headers a presigning SDK hoists into the query; none of them is forwarded
 * ({@link forwardedQuery}).
 */
function isNeutral(name: string): boolean {
  return name === "x-id" || /^x-amz-/i.test(name);
}

/** The query to forward: the operation's own parameters, without auth or hoisted headers. */
export function forwardedQuery(query: URLSearchParams): [string, string][] {
  return [...query].filter(([k]) => !/^x-amz-/i.test(k));
}

/**
 * Where the bucket is named: in the host when the host name starts with `BUCKET.`
 * (virtual-hosted), else in the path's first segment (path-style).
 */
export function bucketAndKey(
  bucket: string,
  host: string,
  path: string,
): { bucket: string; key: string } {
  const hostname = host.replace(/:\d+$/, "").toLowerCase();
  const segments = path.split("/").slice(1).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new Refusal(400, "InvalidURI", `"${path}" is not valid percent-encoding`);
    }
  });
  return hostname.startsWith(bucket + ".")
    ? { bucket, key: segments.join("/") }
    : { bucket: segments[0] ?? "", key: segments.slice(1).join("/") };
}

/**
 * Names the operation of a request, or throws the {@link Refusal} that says why it is not
 * allowed. `bucket` and `key` come from {@link bucketAndKey}.
 */
export function classify(
  scope: Scope,
  request: {
    method: string;
    bucket: string;
    key: string;
    query: URLSearchParams;
    headers: Headers;
  },
): Allowed {
  const { method, bucket, key, query, headers } = request;
  const deny = (what: string) =>
    new Refusal(403, "AccessDenied", `${what} is refused: ${allowedSummary(scope)}`);
  if (bucket !== scope.bucket) {
    throw new Refusal(
      404,
      "NoSuchBucket",
      `bucket "${bucket}" is not served here: ${allowedSummary(scope)}`,
    );
  }
  for (const name of headers.keys()) {
    const hit = REFUSED_HEADERS.find(([re]) => re.test(name));
    if (hit) throw deny(`header "${name}" (${hit[1]})`);
  }
  const seen = new Set<string>();
  for (const name of query.keys()) {
    // Which of two values S3 acts on is not ours to guess: a second `partNumber` made a plain
    // PutObject pass as UploadPart (no If-None-Match), a second `prefix` listed elsewhere.
    if (seen.has(name)) throw deny(`query parameter "${name}" given twice`);
    seen.add(name);
    if (REFUSED_QUERY.includes(name)) throw deny(`"?${name}"`);
    const hit = REFUSED_HEADERS.find(([re]) => re.test(name.toLowerCase()));
    if (hit) throw deny(`query parameter "${name}" (${hit[1]})`);
  }
  const params = [...query.keys()].filter((n) => !isNeutral(n));
  const only = (...names: string[]) => params.every((n) => names.includes(n));
  if (!["GET", "HEAD", "PUT", "POST", "DELETE"].includes(method)) {
    throw new Refusal(405, "MethodNotAllowed", `method ${method} is not allowed here`);
  }
  if (key === "") {
    if (method === "GET" && query.get("list-type") === "2") return listing(scope, query, deny);
    if (method === "DELETE" || method === "POST") throw deny(`bucket-level ${method}`);
    throw new Refusal(
      501,
      "NotImplemented",
      `this bucket-level ${method} is not implemented: ${allowedSummary(scope)}`,
    );
  }
  if (key.split("/").some((s) => s === "." || s === "..")) {
    // Forwarded, a URL resolves these: `mirror/..%2Fkeys%2FID` would write `keys/ID`.
    throw deny(`key "${key}", with a "." or ".." segment,`);
  }
  if (!key.startsWith(scope.keyPrefix)) throw deny(`key "${key}", outside the repository,`);
  const name = key.slice(scope.keyPrefix.length);
  const create = (operation: Operation): Allowed => {
    if (!ingestMayCreate(name)) throw deny(`writing "${name}"`);
    return { operation, key };
  };
  switch (method) {
    case "GET":
    case "HEAD":
      if (!only()) throw deny(`${method} with "?${params.join("&")}"`);
      if (!ingestMayRead(name)) throw deny(`reading "${name}"`);
      return { operation: method === "GET" ? "GetObject" : "HeadObject", key };
    case "PUT":
      if (only()) return create("PutObject");
      if (query.has("partNumber") && query.has("uploadId") && only("partNumber", "uploadId")) {
        return create("UploadPart");
      }
      break;
    case "POST":
      if (query.has("uploads") && only("uploads")) return create("CreateMultipartUpload");
      if (query.has("uploadId") && only("uploadId")) return create("CompleteMultipartUpload");
      break;
    case "DELETE":
      if (query.has("uploadId") && only("uploadId")) {
        if (!ingestMayCreate(name)) throw deny(`aborting an upload of "${name}"`);
        return { operation: "AbortMultipartUpload", key };
      }
      throw deny(`DELETE of "${name}"`);
  }
  throw deny(`${method} "${name}" with "?${params.join("&")}"`);
}

const LIST_PARAMS = [
  "list-type",
  "prefix",
  "continuation-token",
  "max-keys",
  "delimiter",
  "start-after",
  "encoding-type",
  "fetch-owner",
];

function listing(scope: Scope, query: URLSearchParams, deny: (what: string) => Refusal): Allowed {
  for (const name of query.keys()) {
    if (!isNeutral(name) && !LIST_PARAMS.includes(name)) throw deny(`listing with "?${name}"`);
  }
  if (!(query.get("prefix") ?? "").startsWith(scope.keyPrefix)) {
    throw deny(`listing outside "${scope.keyPrefix}"`);
  }
  return { operation: "ListObjectsV2", key: "" };
}

/** Headers of a write the gateway passes on; anything else the client sent is dropped. */
const WRITE_HEADERS =
  /^(content-type|content-md5|cache-control|x-amz-storage-class|x-amz-meta-.+|x-amz-checksum-(sha256|sha1|crc32|crc32c|crc64nvme|algorithm|type)|x-amz-sdk-checksum-algorithm)$/;
/** Headers of a read the gateway passes on. */
const READ_HEADERS = /^(range|if-none-match|if-modified-since|x-amz-checksum-mode)$/;

/**
 * The headers to forward for `operation`, lowercased: the allowed ones the client sent, and
 * `If-None-Match: *` on every write that creates an object, whatever the client sent.
 */
export function forwardedHeaders(operation: Operation, headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const read = operation === "GetObject" || operation === "HeadObject";
  const pattern = read ? READ_HEADERS : WRITE_HEADERS;
  for (const [name, value] of headers) {
    if (pattern.test(name)) out[name] = value;
  }
  if (operation === "PutObject" || operation === "CompleteMultipartUpload") {
    out["if-none-match"] = "*";
  }
  return out;
}
