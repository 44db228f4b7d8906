/**
 * A TCP proxy in front of a local S3 server (moto) that sees the HTTP/1.1 requests going
 * through it: it names each request's S3 operation (so a test counts exactly the requests a
 * store made), counts the bytes clients sent, and can drop a connection once after a given
 * number of request bytes (a flaky link cut mid-upload, the way a reset or a dead NAT entry
 * ends a request: the client sees the connection close under it).
 *
 * Only what the AWS SDK sends is understood: request heads, then a body of `Content-Length`
 * bytes (a chunked body is refused with an `Error`, so a count is never silently wrong).
 *
 * @module
 */

/** One request the proxy saw, by its S3 operation. */
export interface SeenRequest {
  /** `PutObject`, `CreateMultipartUpload`, `UploadPart`, `CompleteMultipartUpload`, ... */
  operation: string;
  /** Bytes of its body. */
  bodyBytes: number;
}

/** A running proxy. */
export interface S3Proxy {
  /** `http://127.0.0.1:PORT`: give it to the client instead of the server's endpoint. */
  endpoint: string;
  /** The requests whose heads went through, in order. */
  requests: SeenRequest[];
  /** Request bytes (heads and bodies) clients sent through the proxy so far. */
  sentBytes(): number;
  /**
   * Drops the connection carrying the `bytes`-th request byte sent from now on (heads and
   * bodies), once: the client sees its request fail and retries on a new connection.
   */
  cutAfter(bytes: number): void;
  /** Connections dropped by {@link cutAfter}. */
  cuts(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port that forwards to `upstream` (`http://HOST:PORT`).
 * With `mbitPerS`, request bytes of all connections together go no faster than that, as over
 * one shared uplink (for measurements; tests leave it out).
 */
export function startS3Proxy(upstream: string, options: { mbitPerS?: number } = {}): S3Proxy {
  const target = new URL(upstream);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: SeenRequest[] = [];
  const open = new Set<Deno.Conn>();
  let sent = 0;
  let cutAt: number | undefined;
  let cuts = 0;
  const pumps: Promise<void>[] = [];
  /** When the shared uplink is free again (`performance.now()` ms). */
  let linkFree = 0;
  const throttle = async (bytes: number) => {
    if (options.mbitPerS === undefined) return;
    linkFree = Math.max(linkFree, performance.now()) + bytes * 8 / (options.mbitPerS * 1e3);
    // Sleep only once well ahead: timers are coarse (a few ms), so a sleep per 64 KiB read
    // would hold one connection below the rate.
    const wait = linkFree - performance.now();
    if (wait > 20) await new Promise((r) => setTimeout(r, wait));
  };

  const serve = async (client: Deno.Conn) => {
    const server = await Deno.connect({
      hostname: target.hostname,
      port: Number(target.port || 80),
    });
    open.add(client);
    open.add(server);
    const closeBoth = () => {
      for (const c of [client, server]) {
        if (open.delete(c)) {
          try {
            c.close();
          } catch { /* closed already */ }
        }
      }
    };
    const heads = new RequestHeads(requests);
    const up = (async () => {
      const buf = new Uint8Array(64 << 10);
      try {
        for (;;) {
          const n = await client.read(buf);
          if (n === null) break;
          let chunk = buf.subarray(0, n);
          let cut = false;
          if (cutAt !== undefined && sent + n >= cutAt) {
            chunk = chunk.subarray(0, cutAt - sent);
            cutAt = undefined;
            cut = true;
          }
          sent += chunk.length;
          heads.feed(chunk);
          await throttle(chunk.length);
          await writeAll(server, chunk);
          if (cut) {
            cuts++;
            break;
          }
        }
      } catch { /* the other side closed */ }
      closeBoth();
    })();
    const down = (async () => {
      const buf = new Uint8Array(64 << 10);
      try {
        for (;;) {
          const n = await server.read(buf);
          if (n === null) break;
          await writeAll(client, buf.subarray(0, n));
        }
      } catch { /* the other side closed */ }
      closeBoth();
    })();
    await Promise.all([up, down]);
  };

  const accepting = (async () => {
    try {
      for await (const client of listener) pumps.push(serve(client).catch(() => {}));
    } catch { /* listener closed */ }
  })();

  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests,
    sentBytes: () => sent,
    cutAfter(bytes: number) {
      cutAt = sent + bytes;
    },
    cuts: () => cuts,
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
      open.clear();
      await accepting;
      await Promise.all(pumps);
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Follows one connection's request stream: heads, then `Content-Length` bytes of body. */
class RequestHeads {
  #head: number[] = [];
  #bodyLeft = 0;
  constructor(private seen: SeenRequest[]) {}

  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - at);
        this.#bodyLeft -= take;
        at += take;
        continue;
      }
      this.#head.push(chunk[at++]);
      const h = this.#head;
      const n = h.length;
      if (n >= 4 && h[n - 4] === 13 && h[n - 3] === 10 && h[n - 2] === 13 && h[n - 1] === 10) {
        this.#request(new TextDecoder().decode(new Uint8Array(h)));
        this.#head = [];
      }
    }
  }

  #request(head: string): void {
    const [line, ...fields] = head.trimEnd().split("\r\n");
    const [method, path] = line.split(" ");
    const header = (name: string) =>
      fields.find((f) => f.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    if (/chunked/i.test(header("transfer-encoding") ?? "")) {
      throw new Error(`s3_proxy: chunked request body of "${line}" is not understood`);
    }
    const bodyBytes = Number(header("content-length") ?? 0);
    this.#bodyLeft = bodyBytes;
    this.seen.push({ operation: operationOf(method, new URL(path, "http://x")), bodyBytes });
  }
}

/** The S3 operation of a request to a path-style endpoint, by method and query. */
function operationOf(method: string, url: URL): string {
  const q = url.searchParams;
  const hasKey = url.pathname.split("/").filter((s) => s !== "").length > 1;
  switch (method) {
    case "PUT":
      if (q.has("partNumber") && q.has("uploadId")) return "UploadPart";
      return hasKey ? "PutObject" : "CreateBucket";
    case "POST":
      if (q.has("uploads")) return "CreateMultipartUpload";
      if (q.has("uploadId")) return "CompleteMultipartUpload";
      if (q.has("restore")) return "RestoreObject";
      if (q.has("delete")) return "DeleteObjects";
      return "POST";
    case "GET":
      if (q.has("uploads")) return "ListMultipartUploads";
      if (q.has("uploadId")) return "ListParts";
      return hasKey ? "GetObject" : "ListObjects";
    case "HEAD":
      return hasKey ? "HeadObject" : "HeadBucket";
    case "DELETE":
      return q.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  }
  return method;
}
