/**
 * Where `permafrost serve` listens: `--listen HOST:PORT` parsed, and whether the host is one
 * only this machine reaches.
 *
 * @module
 */

import { InvalidRequest } from "../workflows/invalid_request.ts";

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback); port 0 lets the system pick one. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new InvalidRequest(
      `--listen is HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, or port 0 for any), not "${listen}"`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** True for an address only this machine reaches (127.0.0.0/8, ::1, localhost). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}
