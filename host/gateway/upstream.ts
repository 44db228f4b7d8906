/**
 * The real S3 endpoint behind the gateway: one allowed request forwarded, re-signed with the
 * gateway's own credentials (`sigv4.ts`), its body streamed through and the answer streamed
 * back. `node:http(s)` rather than `fetch`, because `fetch` sends a streamed body chunked,
 * without the `Content-Length` S3 requires of a `PutObject` (measured under Deno 2.9.6).
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { S3Target } from "../storage/s3_location.ts";
import { EMPTY_SHA256, type SigningCredentials, signRequest, uriEncode } from "./sigv4.ts";

/** Where and as whom the gateway forwards. */
export interface Upstream {
  target: S3Target;
  /** The gateway's credentials (the standard AWS chain, or a profile), fresh on each call. */
  credentials(): Promise<SigningCredentials>;
}

/** One request to forward: the key, the query to keep, the headers chosen by `rules.ts`. */
export interface Forward {
  method: string;
  key: string;
  query: [string, string][];
  headers: Record<string, string>;
  /** The checked body and its length, for uploads. */
  body?: { stream: ReadableStream<Uint8Array>; length: number; sha256?: string };
}

/** Response headers passed back to the client. */
const PASSED_BACK =
  /^(content-type|content-length|content-range|accept-ranges|etag|last-modified|x-amz-(?!id-2$).+)$/;

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/** Sends `f` to the real endpoint and resolves its response, body streaming. */
export async function forward(upstream: Upstream, f: Forward): Promise<Response> {
  const { target } = upstream;
  const base = new URL(target.endpoint);
  const path = f.key.split("/").map(uriEncode).join("/");
  const url = new URL(base.href);
  if (target.pathStyle) url.pathname = `/${target.bucket}/${path}`;
  else {
    url.hostname = `${target.bucket}.${base.hostname}`;
    url.pathname = `/${path}`;
  }
  if (url.pathname !== (target.pathStyle ? `/${target.bucket}/${path}` : `/${path}`)) {
    // The URL resolved a "." or ".." segment: forwarding would write another key than checked.
    throw new TypeError(`key "${f.key}" does not survive as a URL path; not forwarded`);
  }
  url.search = f.query.map(([k, v]) => v === "" ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)
    .join("&");
  const headers: Record<string, string> = { ...f.headers };
  if (f.body) headers["content-length"] = String(f.body.length);
  const signed = signRequest(
    {
      method: f.method,
      url,
      headers,
      payloadHash: f.body ? f.body.sha256 ?? "UNSIGNED-PAYLOAD" : EMPTY_SHA256,
    },
    await upstream.credentials(),
    target.region,
  );
  const client = url.protocol === "https:" ? https : http;
  return await new Promise<Response>((resolve, reject) => {
    const req = client.request(url, {
      method: f.method,
      headers: signed,
      agent: url.protocol === "https:" ? agents.https : agents.http,
    }, (res) => {
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined && PASSED_BACK.test(name)) {
          out.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
      }
      const body = f.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304
        ? null
        : Readable.toWeb(res) as ReadableStream<Uint8Array>;
      if (body === null) res.resume();
      resolve(new Response(body, { status: res.statusCode ?? 502, headers: out }));
    });
    req.on("error", reject);
    if (!f.body) {
      req.end();
      return;
    }
    pump(f.body.stream, req).catch((e) => {
      req.destroy(e instanceof Error ? e : new Error(String(e)));
      reject(e);
    });
  });
}

/** Writes `stream` into `req`, waiting for `drain`; ends it at the end of the stream. */
async function pump(stream: ReadableStream<Uint8Array>, req: http.ClientRequest): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!req.write(value)) {
        await new Promise<void>((resolve, reject) => {
          const fail = (e: Error) => reject(e);
          req.once("error", fail);
          req.once("drain", () => {
            req.off("error", fail);
            resolve();
          });
        });
      }
    }
    req.end();
  } finally {
    reader.releaseLock();
  }
}
