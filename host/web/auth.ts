/**
 * The access token: every request must carry it, as `Authorization: Bearer TOKEN`, or as the
 * `permafrost_token` cookie. A page opened once with `?token=TOKEN` gets that cookie (HttpOnly,
 * SameSite=Strict) and is redirected to the same address without the token, so the token does
 * not stay in the address bar or the history. Anything else is answered 401.
 *
 * @module
 */

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

export const TOKEN_COOKIE = "permafrost_token";

/** A fresh random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares in time that does not depend on where the strings differ. */
function same(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The middleware that lets through only requests with `token`. */
export function requireToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (same(bearer, token) || same(getCookie(c, TOKEN_COOKIE), token)) return await next();
    const query = c.req.query("token");
    if (same(query, token) && c.req.method === "GET") {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      return c.redirect(url.pathname + url.search, 303);
    }
    c.header("WWW-Authenticate", 'Bearer realm="permafrost"');
    return c.text(
      "401: this page needs the access token `permafrost serve` printed " +
        "(open the address it printed, or send Authorization: Bearer TOKEN)\n",
      401,
    );
  };
}
