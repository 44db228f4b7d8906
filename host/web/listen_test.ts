import assert from "node:assert/strict";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { isLoopback, parseListen } from "./listen.ts";

Deno.test("isLoopback() accepts only addresses this machine alone reaches", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "::", "192.168.1.2", "10.0.0.1", "example.com", "128.0.0.1"]) {
    assert.ok(!isLoopback(h), h);
  }
});

Deno.test("parseListen() reads HOST:PORT, [V6]:PORT and :PORT", () => {
  assert.deepEqual(parseListen("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListen("[::1]:8080"), { hostname: "::1", port: 8080 });
  assert.deepEqual(parseListen(":9000"), { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseListen("0.0.0.0:80"), { hostname: "0.0.0.0", port: 80 });
});

Deno.test("parseListen() refuses what is not HOST:PORT as a usage error", () => {
  for (const bad of ["8080", "host", "::1:80", "127.0.0.1:70000", "127.0.0.1:x"]) {
    assert.throws(() => parseListen(bad), InvalidRequest, bad);
  }
});
