/**
 * The only file that calls `Deno.serve`: serves the web app on a host and port (port 0: the
 * system picks one) and resolves the address it listens on. It is also the web view's one
 * entry for the CLI (`permafrost serve`, host/cli/cmd_serve.ts): {@link serveRepository}, and
 * the listen address and token helpers that command parses its options with.
 *
 * @module
 */

import type { Hono } from "hono";
import type { Repository } from "../repository/repository.ts";
import { webApp } from "./app.ts";
import { RepoSource } from "./repo_source.ts";

export { newToken } from "./auth.ts";
export { isLoopback, parseListen } from "./listen.ts";

/** Where and how {@link serveRepository} serves. */
export interface ServeOptions {
  /** The repository's location, shown on every page. */
  location: string;
  /** Prices of this region over the store's own (host/workflows/pricing.ts). */
  region?: string;
  /** The access token every request must carry. */
  token: string;
  hostname: string;
  port: number;
}

/** Serves the web view of the open `repo`; resolves once it listens. It never closes `repo`. */
export function serveRepository(repo: Repository, options: ServeOptions): Promise<Serving> {
  const source = new RepoSource(repo, options.location, options.region);
  return serve(webApp(source, options.token), options.hostname, options.port);
}

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
