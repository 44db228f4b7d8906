/**
 * AWS Signature Version 4 for S3, both ways: {@link verifySignature} checks what a client sent
 * the gateway (header auth and presigned query auth), {@link signRequest} signs what the gateway
 * forwards to the real endpoint. One canonical request serves both, so they cannot drift.
 *
 * The algorithm (AWS documentation, "Signature Calculations for the Authorization Header" and
 * "Authenticating Requests: Using Query Parameters", S3 API reference): a canonical request
 * (method, URI, sorted query, the signed headers, the payload hash) is hashed into a string to
 * sign with the date and the credential scope `DATE/REGION/s3/aws4_request`, which is signed
 * with HMAC-SHA256 under a key derived from the secret in four HMAC steps. Streaming uploads
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) sign each chunk chained to the previous signature
 * (`aws_chunked.ts`).
 *
 * What a verified request must satisfy, beyond a matching signature (compared in constant
 * time): service `s3`; the scope's date the request date's day; the request date within 15
 * minutes of now (header auth), or a presigned URL not yet expired (at most 7 days, as S3) and
 * not dated more than 15 minutes ahead; `host` and, for header auth, `x-amz-date` and
 * `x-amz-content-sha256` signed, and every `x-amz-*` header the request carries signed too, so
 * nothing that changes what S3 does rides along unsigned.
 *
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Why a request was not authenticated: the S3 error code and a sentence for the client. */
export class SignatureError extends Error {
  override name = "SignatureError";
  constructor(readonly code: SignatureErrorCode, message: string) {
    super(message);
  }
}

export type SignatureErrorCode =
  | "AccessDenied"
  | "InvalidAccessKeyId"
  | "SignatureDoesNotMatch"
  | "RequestTimeTooSkewed"
  | "AuthorizationQueryParametersError"
  | "InvalidRequest";

/** The largest difference between a request's date and the gateway's clock (as S3). */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may live (S3's limit: 7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const ALGORITHM = "AWS4-HMAC-SHA256";

/** What the verifier needs of a request: no body, which is checked as it streams. */
export interface SignedRequest {
  method: string;
  /** The request target as sent: path and raw query (`/bucket/key?x=1`), or a full URL. */
  url: string;
  headers: Headers;
}

/** How the body of a verified request is to be checked while it streams. */
export type PayloadCheck =
  | { kind: "sha256"; hex: string }
  | { kind: "unsigned" }
  | {
    kind: "streaming";
    /** The request's signature, which the first chunk's signature chains to. */
    seedSignature: string;
    signingKey: Uint8Array;
    amzDate: string;
    scope: string;
  };

/** A request whose signature verified. */
export interface Verified {
  accessKeyId: string;
  region: string;
  payload: PayloadCheck;
}

/**
 * Checks the signature of `req`; `secretOf` gives the secret of an access key id (`undefined`
 * for an unknown one). Resolves what was signed and how to check the body, or rejects with a
 * {@link SignatureError}.
 */
export async function verifySignature(
  req: SignedRequest,
  secretOf: (accessKeyId: string) => Promise<string | undefined> | string | undefined,
  now: Date = new Date(),
): Promise<Verified> {
  const url = new URL(req.url, "http://gateway.invalid");
  const auth = req.headers.get("authorization");
  const claim = auth !== null ? headerClaim(auth, req.headers, now) : queryClaim(url, now);
  const secret = await secretOf(claim.accessKeyId);
  if (secret === undefined) {
    throw new SignatureError(
      "InvalidAccessKeyId",
      `access key "${claim.accessKeyId}" is not one of this gateway's keys ` +
        "(`permafrost gateway key list`)",
    );
  }
  for (const name of req.headers.keys()) {
    if (name.startsWith("x-amz-") && !claim.signedHeaders.includes(name)) {
      throw new SignatureError(
        "AccessDenied",
        `header "${name}" is not signed; the gateway accepts x-amz-* headers only when signed`,
      );
    }
  }
  const canonical = canonicalRequest(
    req.method,
    url,
    req.headers,
    claim.signedHeaders,
    claim.payloadHash,
    claim.presigned,
  );
  const scope = `${claim.date}/${claim.region}/s3/aws4_request`;
  const key = signingKey(secret, claim.date, claim.region);
  const expected = hmacHex(key, stringToSign(claim.amzDate, scope, canonical));
  if (!sameHex(expected, claim.signature)) {
    throw new SignatureError(
      "SignatureDoesNotMatch",
      "the request signature does not match: check the secret of the access key, and that " +
        "nothing between the client and the gateway changes the request",
    );
  }
  const payload: PayloadCheck = claim.payloadHash === STREAMING_PAYLOAD
    ? {
      kind: "streaming",
      seedSignature: claim.signature,
      signingKey: key,
      amzDate: claim.amzDate,
      scope,
    }
    : claim.payloadHash === UNSIGNED_PAYLOAD
    ? { kind: "unsigned" }
    : { kind: "sha256", hex: claim.payloadHash };
  return { accessKeyId: claim.accessKeyId, region: claim.region, payload };
}

/** What a request claims: who signed it, when, for where, what, and the signature. */
interface Claim {
  accessKeyId: string;
  date: string;
  region: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  presigned: boolean;
}

function headerClaim(auth: string, headers: Headers, now: Date): Claim {
  if (!auth.startsWith(ALGORITHM + " ")) {
    throw new SignatureError(
      "InvalidRequest",
      `the gateway accepts only Signature Version 4 (${ALGORITHM}) authorization`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of auth.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signed = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signed || !signature) {
    throw new SignatureError(
      "InvalidRequest",
      "the Authorization header needs Credential, SignedHeaders and Signature",
    );
  }
  const amzDate = headers.get("x-amz-date");
  if (amzDate === null) {
    throw new SignatureError("AccessDenied", "the request has no x-amz-date header");
  }
  const payloadHash = headers.get("x-amz-content-sha256");
  if (payloadHash === null) {
    throw new SignatureError(
      "InvalidRequest",
      "the request has no x-amz-content-sha256 header (S3 requires it with Signature Version 4)",
    );
  }
  checkPayloadHash(payloadHash);
  const signedHeaders = signed.split(";");
  for (const needed of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!signedHeaders.includes(needed)) {
      throw new SignatureError("AccessDenied", `header "${needed}" must be signed`);
    }
  }
  const when = parseAmzDate(amzDate);
  if (Math.abs(when.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new SignatureError(
      "RequestTimeTooSkewed",
      `the request was signed at ${when.toISOString()}, more than 15 minutes from the ` +
        `gateway's time ${now.toISOString()}: check the client's clock (or the request is a replay)`,
    );
  }
  return {
    ...parseCredential(credential, amzDate),
    amzDate,
    signedHeaders,
    signature,
    payloadHash,
    presigned: false,
  };
}

function queryClaim(url: URL, now: Date): Claim {
  const q = url.searchParams;
  const algorithm = q.get("X-Amz-Algorithm");
  if (algorithm === null) {
    throw new SignatureError(
      "AccessDenied",
      "the request is not signed: the gateway serves only requests signed with one of its keys",
    );
  }
  if (algorithm !== ALGORITHM) {
    throw new SignatureError(
      "AuthorizationQueryParametersError",
      `X-Amz-Algorithm must be ${ALGORITHM}`,
    );
  }
  const credential = q.get("X-Amz-Credential");
  const amzDate = q.get("X-Amz-Date");
  const expires = q.get("X-Amz-Expires");
  const signed = q.get("X-Amz-SignedHeaders");
  const signature = q.get("X-Amz-Signature");
  if (!credential || !amzDate || !expires || !signed || !signature) {
    throw new SignatureError(
      "AuthorizationQueryParametersError",
      "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, " +
        "X-Amz-SignedHeaders and X-Amz-Signature",
    );
  }
  const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_PRESIGN_SECONDS)) {
    throw new SignatureError(
      "AuthorizationQueryParametersError",
      `X-Amz-Expires must be 1 to ${MAX_PRESIGN_SECONDS} seconds, not "${expires}"`,
    );
  }
  const when = parseAmzDate(amzDate);
  if (when.getTime() - now.getTime() > MAX_SKEW_MS) {
    throw new SignatureError(
      "RequestTimeTooSkewed",
      `the presigned URL is dated ${when.toISOString()}, in the future: check the client's clock`,
    );
  }
  if (now.getTime() > when.getTime() + seconds * 1000) {
    throw new SignatureError(
      "AccessDenied",
      `the presigned URL expired at ${new Date(when.getTime() + seconds * 1000).toISOString()}`,
    );
  }
  const signedHeaders = signed.split(";");
  if (!signedHeaders.includes("host")) {
    throw new SignatureError("AccessDenied", `header "host" must be signed`);
  }
  return {
    ...parseCredential(credential, amzDate),
    amzDate,
    signedHeaders,
    signature,
    payloadHash: presignedPayloadHash(q),
    presigned: true,
  };
}

/** A presigned request's payload hash: hoisted into the query by the SDK, else unsigned. */
function presignedPayloadHash(q: URLSearchParams): string {
  const hash = q.get("X-Amz-Content-Sha256") ?? q.get("x-amz-content-sha256") ?? UNSIGNED_PAYLOAD;
  checkPayloadHash(hash);
  if (hash === STREAMING_PAYLOAD) {
    throw new SignatureError("InvalidRequest", "a presigned URL cannot stream signed chunks");
  }
  return hash;
}

function parseCredential(
  credential: string,
  amzDate: string,
): { accessKeyId: string; date: string; region: string } {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts[3] !== "s3" || parts[4] !== "aws4_request") {
    throw new SignatureError(
      "AuthorizationQueryParametersError",
      `credential "${credential}" is not ACCESS_KEY/DATE/REGION/s3/aws4_request`,
    );
  }
  const [accessKeyId, date, region] = parts;
  if (date !== amzDate.slice(0, 8)) {
    throw new SignatureError(
      "SignatureDoesNotMatch",
      `the credential's date ${date} is not the request's date ${amzDate.slice(0, 8)}`,
    );
  }
  return { accessKeyId, date, region };
}

function checkPayloadHash(hash: string): void {
  if (hash === UNSIGNED_PAYLOAD || hash === STREAMING_PAYLOAD || /^[0-9a-f]{64}$/.test(hash)) {
    return;
  }
  throw new SignatureError(
    "InvalidRequest",
    `x-amz-content-sha256 "${hash}" is not supported: send the body's SHA-256, ` +
      `${UNSIGNED_PAYLOAD} or ${STREAMING_PAYLOAD} (set the client's request checksum ` +
      `calculation to "when_required" to avoid trailing checksums)`,
  );
}

/** `20130524T000000Z` as a date; a `SignatureError` for anything else. */
export function parseAmzDate(amzDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) throw new SignatureError("AccessDenied", `date "${amzDate}" is not YYYYMMDDTHHMMSSZ`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/** A date as SigV4 writes it: `20130524T000000Z`. */
export function amzDateOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** The canonical request of AWS's SigV4 description, S3 flavour (no path normalisation). */
export function canonicalRequest(
  method: string,
  url: URL,
  headers: Headers,
  signedHeaders: string[],
  payloadHash: string,
  presigned = false,
): string {
  const path = url.pathname.split("/").map((s) => uriEncode(safeDecode(s))).join("/");
  const query = rawQuery(url.search)
    .filter(([k]) => !(presigned && k === "X-Amz-Signature"))
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, x], [b, y]) => a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  return [
    method,
    path,
    query,
    canonicalHeaders,
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

/** `?a=1&b` as decoded pairs, decoding `%XX` only (a `+` stays a `+`, as S3 reads it). */
function rawQuery(search: string): [string, string][] {
  if (search.length <= 1) return [];
  return search.slice(1).split("&").filter((p) => p !== "").map((p) => {
    const eq = p.indexOf("=");
    return eq < 0 ? [safeDecode(p), ""] : [safeDecode(p.slice(0, eq)), safeDecode(p.slice(eq + 1))];
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SignatureError("InvalidRequest", `"${s}" is not valid percent-encoding`);
  }
}

/** SigV4's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** The signing key of `secret` for a day (`YYYYMMDD`) and region, service `s3`. */
export function signingKey(secret: string, date: string, region: string): Uint8Array {
  const kDate = hmac("AWS4" + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, "s3");
  return hmac(kService, "aws4_request");
}

/** The signature of one chunk of a streaming upload, chained to `previous`. */
export function chunkSignature(
  check: Extract<PayloadCheck, { kind: "streaming" }>,
  previous: string,
  chunkSha256Hex: string,
): string {
  const text = [
    "AWS4-HMAC-SHA256-PAYLOAD",
    check.amzDate,
    check.scope,
    previous,
    EMPTY_SHA256,
    chunkSha256Hex,
  ].join("\n");
  return hmacHex(check.signingKey, text);
}

/** Constant-time comparison of two hex strings (different lengths: not equal). */
export function sameHex(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Credentials the gateway signs its own requests with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Signs a request for the real endpoint: returns `headers` plus `x-amz-date`,
 * `x-amz-content-sha256`, the session token if any, and `authorization`, signing every header
 * given (all lowercase names) and `host` (from `url`).
 */
export function signRequest(
  request: { method: string; url: URL; headers: Record<string, string>; payloadHash: string },
  credentials: SigningCredentials,
  region: string,
  now: Date = new Date(),
): Record<string, string> {
  const amzDate = amzDateOf(now);
  const out: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": request.payloadHash,
  };
  if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(out).map((n) => n.toLowerCase()).sort();
  const canonical = canonicalRequest(
    request.method,
    request.url,
    new Headers(out),
    names,
    request.payloadHash,
  );
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/s3/aws4_request`;
  const signature = hmacHex(
    signingKey(credentials.secretAccessKey, date, region),
    stringToSign(amzDate, scope, canonical),
  );
  out.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return out;
}

function hmac(key: string | Uint8Array, text: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(text).digest());
}

function hmacHex(key: Uint8Array, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
