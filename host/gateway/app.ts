/**
 * The gateway's Hono app: every request is authenticated (`sigv4.ts`, against the gateway's
 * own keys), named as one allowed operation or refused (`rules.ts`), its body checked as it
 * streams (`body_check.ts`), and forwarded to the real endpoint re-signed (`upstream.ts`).
 * Refusals are S3-style XML errors, so S3 clients report them as they would S3's own.
 *
 * @module
 */

import { Hono } from "hono";
import { BodyError, checkedBody } from "./body_check.ts";
import {
  bucketAndKey,
  classify,
  forwardedHeaders,
  forwardedQuery,
  Refusal,
  type Scope,
} from "./rules.ts";
import { SignatureError, verifySignature } from "./sigv4.ts";
import { forward, type Upstream } from "./upstream.ts";

/** What the app needs. */
export interface GatewayOptions {
  scope: Scope;
  upstream: Upstream;
  /** The secret of one of the gateway's access keys (`gateway_keys.ts`). */
  secretOf(accessKeyId: string): Promise<string | undefined>;
  /** The clock signatures are checked against (tests set it). */
  now?: () => Date;
  /** Told about each refused request (the CLI prints it to stderr). */
  onRefusal?: (line: string) => void;
}

const STATUS: Record<string, number> = {
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  RequestTimeTooSkewed: 403,
  AuthorizationQueryParametersError: 400,
  InvalidRequest: 400,
  XAmzContentSHA256Mismatch: 400,
  IncompleteBody: 400,
  MissingContentLength: 411,
  ServiceUnavailable: 503,
};

/** The gateway app. */
export function gatewayApp(options: GatewayOptions): Hono {
  const app = new Hono();
  app.all("*", async (c) => {
    const req = c.req.raw;
    const url = new URL(req.url);
    const fail = (status: number, code: string, message: string) => {
      options.onRefusal?.(`${req.method} ${url.pathname}: ${code}: ${message}`);
      return s3Error(req.method, status, code, message, url.pathname);
    };
    try {
      const verified = await verifySignature(
        { method: req.method, url: req.url, headers: req.headers },
        (id) => options.secretOf(id),
        options.now?.() ?? new Date(),
      );
      const { bucket, key } = bucketAndKey(
        options.scope.bucket,
        req.headers.get("host") ?? url.host,
        url.pathname,
      );
      const allowed = classify(options.scope, {
        method: req.method,
        bucket,
        key,
        query: url.searchParams,
        headers: req.headers,
      });
      const upload = ["PutObject", "UploadPart", "CompleteMultipartUpload"].includes(
        allowed.operation,
      );
      let body;
      if (upload) {
        const declared = verified.payload.kind === "streaming"
          ? req.headers.get("x-amz-decoded-content-length")
          : req.headers.get("content-length");
        if (declared === null || !/^\d+$/.test(declared)) {
          return fail(411, "MissingContentLength", "an upload needs its length (Content-Length)");
        }
        const length = Number(declared);
        body = {
          stream: checkedBody(req.body ?? new Blob([]).stream(), verified.payload, length),
          length,
          sha256: verified.payload.kind === "sha256" ? verified.payload.hex : undefined,
        };
      }
      return await forward(options.upstream, {
        method: req.method,
        key: allowed.key,
        query: forwardedQuery(url.searchParams),
        headers: forwardedHeaders(allowed.operation, req.headers),
        body,
      });
    } catch (e) {
      if (e instanceof Refusal) return fail(e.status, e.code, e.message);
      if (e instanceof SignatureError || e instanceof BodyError) {
        return fail(STATUS[e.code] ?? 400, e.code, e.message);
      }
      const why = e instanceof Error ? e.message : String(e);
      return fail(503, "ServiceUnavailable", `the gateway could not reach the bucket: ${why}`);
    }
  });
  return app;
}

/** An S3 error response: XML with the code and message (no body for HEAD, as S3). */
export function s3Error(
  method: string,
  status: number,
  code: string,
  message: string,
  resource: string,
): Response {
  const requestId = crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
  const headers = { "content-type": "application/xml", "x-amz-request-id": requestId };
  if (method === "HEAD") return new Response(null, { status, headers });
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource>` +
    `<RequestId>${requestId}</RequestId></Error>`;
  return new Response(xml, { status, headers });
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
