import assert from "node:assert/strict";
import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import type { Manifest } from "../../plugins/sdk/manifest.ts";
import { effectivePermissions } from "./permissions.ts";

function manifest(permissions: Manifest["permissions"]): Manifest {
  return {
    name: "p",
    kind: "engine",
    api: 1,
    entry: "mod.ts",
    description: "",
    permissions,
    capabilities: [],
    methods: [],
  };
}

const none = {
  read: false,
  write: false,
  net: false,
  env: false,
  sys: false,
  run: false,
  ffi: false,
  import: false,
};

Deno.test("effectivePermissions() sets every permission, false where the manifest is silent", () => {
  assert.deepEqual(effectivePermissions(manifest({})), none);
});

Deno.test("effectivePermissions() resolves placeholders to the host's values", () => {
  const p = effectivePermissions(
    manifest({ read: ["$sources", "/etc/hosts"], net: ["$endpoint"] }),
    { $sources: ["/home/a", "/srv/b/"], $endpoint: ["s3.example.com:443"] },
  );
  assert.deepEqual(p, {
    ...none,
    read: ["/home/a", "/srv/b", "/etc/hosts"],
    net: ["s3.example.com:443"],
  });
});

Deno.test("effectivePermissions() throws TypeError for a placeholder without a value", () => {
  assert.throws(() => effectivePermissions(manifest({ read: ["$sources"] }), {}), TypeError);
});

Deno.test("effectivePermissions() turns an empty list into false", () => {
  assert.equal(effectivePermissions(manifest({ net: [] })).net, false);
  assert.equal(effectivePermissions(manifest({ read: ["$s"] }), { $s: [] }).read, false);
});

Deno.test("a policy narrows paths to what both the manifest and the policy cover", () => {
  const p = effectivePermissions(
    manifest({ read: ["/home/a", "/srv"], write: ["/data/repo"] }),
    {},
    { permissions: { read: ["/home", "/srv/b", "/opt"], write: ["/data/other"] } },
  );
  assert.deepEqual(p.read, ["/home/a", "/srv/b"]);
  assert.equal(p.write, false);
});

Deno.test("a policy never widens: a permission the manifest does not ask for stays false", () => {
  const p = effectivePermissions(
    manifest({ read: ["/a"] }),
    {},
    { permissions: { read: true, write: true, net: true, env: ["HOME"], run: ["sh"] } },
  );
  assert.deepEqual(p, { ...none, read: ["/a"] });
  const q = effectivePermissions(manifest({ read: ["/a/b"] }), {}, {
    permissions: { read: ["/"] },
  });
  assert.deepEqual(q.read, ["/a/b"]);
  const r = effectivePermissions(manifest({ read: ["/ab"] }), {}, {
    permissions: { read: ["/a"] },
  });
  assert.equal(r.read, false, "/a does not cover /ab");
});

Deno.test("a policy narrows net hosts and can narrow a manifest's true to a list", () => {
  const p = effectivePermissions(
    manifest({ net: ["s3.example.com", "other.example.com:443"], env: true }),
    {},
    { permissions: { net: ["s3.example.com:443", "other.example.com"], env: ["AWS_REGION"] } },
  );
  assert.deepEqual(p.net, ["s3.example.com:443", "other.example.com:443"]);
  assert.deepEqual(p.env, ["AWS_REGION"]);
});

Deno.test("a policy false removes a permission the manifest asks for", () => {
  const p = effectivePermissions(manifest({ read: ["/a"], net: true }), {}, {
    permissions: { read: false, net: [] },
  });
  assert.equal(p.read, false);
  assert.equal(p.net, false);
});

Deno.test("a policy that denies the plugin makes effectivePermissions() throw CapabilityRefused", () => {
  assert.throws(() => effectivePermissions(manifest({}), {}, { deny: true }), CapabilityRefused);
});
