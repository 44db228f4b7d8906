/**
 * The only file that calls `Deno.serve`: serves the web app on a host and port (port 0: the
 * system picks one) and resolves the address it listens on.
 *
 * @module
 */

import type { Hono } from "hono";

export interface Serving {
  /** `http://HOST:PORT/`, with the port the system chose. */
  url: string;
  /** Stops accepting connections and resolves when the server has finished. */
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

/** Starts serving `app`; resolves once it listens. */
export function serve(app: Hono, hostname: string, port: number): Promise<Serving> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname,
        port,
        onListen: (addr) => {
          const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
          resolve({
            url: `http://${host}:${addr.port}/`,
            shutdown: () => server.shutdown(),
            get finished() {
              return server.finished;
            },
          });
        },
      }, app.fetch);
    } catch (err) {
      reject(err);
    }
  });
}
