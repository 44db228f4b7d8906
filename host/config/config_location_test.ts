import assert from "node:assert/strict";
import { configLocation, expandHome } from "./config_location.ts";

const env = {
  HOME: "/home/ana",
  XDG_CONFIG_HOME: "/home/ana/.xdg",
  PERMAFROST_CONFIG: "/etc/permafrost.toml",
};

Deno.test("configLocation() takes --config, else PERMAFROST_CONFIG, else the XDG file, else ~/.config", () => {
  assert.deepEqual(configLocation("my.toml", env), {
    path: "my.toml",
    from: "--config",
    required: true,
  });
  assert.deepEqual(configLocation(undefined, env), {
    path: "/etc/permafrost.toml",
    from: "PERMAFROST_CONFIG",
    required: true,
  });
  assert.deepEqual(configLocation(undefined, { ...env, PERMAFROST_CONFIG: undefined }), {
    path: "/home/ana/.xdg/permafrost/permafrost.toml",
    from: "default",
    required: false,
  });
  assert.deepEqual(configLocation(undefined, { HOME: "/home/ana" }), {
    path: "/home/ana/.config/permafrost/permafrost.toml",
    from: "default",
    required: false,
  });
});

Deno.test("configLocation() treats empty variables as unset and ignores a relative XDG_CONFIG_HOME", () => {
  const home = "/home/ana/.config/permafrost/permafrost.toml";
  assert.equal(
    configLocation(undefined, { HOME: "/home/ana", PERMAFROST_CONFIG: "", XDG_CONFIG_HOME: "" })
      ?.path,
    home,
  );
  assert.equal(
    configLocation(undefined, { HOME: "/home/ana", XDG_CONFIG_HOME: "cfg" })?.path,
    home,
  );
});

Deno.test("configLocation() has no default file without HOME or XDG_CONFIG_HOME", () => {
  assert.equal(configLocation(undefined, {}), undefined);
  assert.equal(
    configLocation(undefined, { XDG_CONFIG_HOME: "/x" })?.path,
    "/x/permafrost/permafrost.toml",
  );
});

Deno.test("configLocation() refuses an empty --config instead of falling back", () => {
  assert.throws(() => configLocation("", env), { name: "TypeError", message: /--config is empty/ });
});

Deno.test("expandHome() expands ~ and ~/ only", () => {
  assert.equal(expandHome("~", "/home/ana"), "/home/ana");
  assert.equal(expandHome("~/Pictures", "/home/ana"), "/home/ana/Pictures");
  assert.equal(expandHome("/srv/~x", "/home/ana"), "/srv/~x");
  assert.equal(expandHome("rel", "/home/ana"), "rel");
  assert.throws(() => expandHome("~bob/x", "/home/ana"), { message: /not "~user\/"/ });
  assert.throws(() => expandHome("~/x", undefined), { message: /HOME is not set/ });
});
