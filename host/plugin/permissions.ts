/**
 * Effective permissions of a plugin worker: the manifest's asks, with `$name` placeholders
 * resolved, intersected with the user's policy. Never `"inherit"` (docs/plugins.md §1, §3.2).
 *
 * @module
 */

import { resolve } from "node:path";
import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import {
  type Manifest,
  type PermissionName,
  permissionNames,
  type PermissionValue,
} from "../../plugins/sdk/manifest.ts";

/**
 * What the user allows one plugin. Contract: a policy can only narrow what the manifest asks
 * for, never widen it. `deny` refuses the plugin outright. In `permissions`, a missing field
 * leaves the manifest's ask as is, `true` too, `false` (or `[]`) removes that permission, and a
 * list keeps only the manifest entries it covers (a path covers itself and everything below
 * it; `host` covers `host:port`). Entries may use the same `$name` placeholders. `capabilities`,
 * when given, bounds which capabilities the plugin may be handed.
 */
export interface PluginPolicy {
  deny?: boolean;
  permissions?: Partial<Record<PermissionName, PermissionValue>>;
  capabilities?: string[];
}

/** Placeholder values, keyed by the placeholder (`{ $sources: ["/home/me"] }`). */
export type PermissionVars = Record<string, string[]>;

/**
 * The worker permissions for `manifest` given `vars` and `policy`. Every permission name is
 * set explicitly (`import` is always `false`); an empty grant becomes `false`. Throws
 * `CapabilityRefused` if the policy denies the plugin and `TypeError` if a placeholder the
 * manifest or policy uses has no value in `vars`.
 */
export function effectivePermissions(
  manifest: Manifest,
  vars: PermissionVars = {},
  policy?: PluginPolicy,
): Deno.PermissionOptionsObject {
  if (policy?.deny) throw new CapabilityRefused(`policy denies plugin "${manifest.name}"`);
  const out: Record<string, boolean | string[]> = { import: false };
  for (const name of permissionNames) {
    const asked = substitute(manifest.permissions[name] ?? false, name, vars, manifest.name);
    const bound = substitute(policy?.permissions?.[name] ?? true, name, vars, manifest.name);
    out[name] = intersect(name, asked, bound);
  }
  return out as Deno.PermissionOptionsObject;
}

function substitute(
  value: PermissionValue,
  name: PermissionName,
  vars: PermissionVars,
  plugin: string,
): PermissionValue {
  if (typeof value === "boolean") return value;
  const out: string[] = [];
  for (const entry of value) {
    if (entry.startsWith("$")) {
      const values = Object.hasOwn(vars, entry) ? vars[entry] : undefined;
      if (!Array.isArray(values)) {
        throw new TypeError(
          `plugin "${plugin}" needs a value for "${entry}" in its "${name}" permission`,
        );
      }
      out.push(...values);
    } else {
      out.push(entry);
    }
  }
  const isPath = name === "read" || name === "write";
  return [...new Set(isPath ? out.map((p) => resolve(p)) : out)];
}

function intersect(
  name: PermissionName,
  asked: PermissionValue,
  bound: PermissionValue,
): boolean | string[] {
  if (asked === false || bound === false) return false;
  if (bound === true) return asked === true ? true : nonEmpty(asked);
  if (asked === true) return nonEmpty(bound);
  const within = name === "read" || name === "write"
    ? pathWithin
    : name === "net"
    ? hostWithin
    : (a: string, b: string) => a === b;
  const kept = new Set<string>();
  for (const a of asked) {
    for (const b of bound) {
      if (within(a, b)) kept.add(a);
      else if (within(b, a)) kept.add(b);
    }
  }
  return nonEmpty([...kept]);
}

function nonEmpty(list: string[]): string[] | false {
  return list.length === 0 ? false : list;
}

/** Whether absolute path `a` is `b` or below it. */
function pathWithin(a: string, b: string): boolean {
  return a === b || a.startsWith(b.endsWith("/") ? b : b + "/");
}

/** Whether net entry `a` is covered by `b`: equal, or `b` is `a`'s host without a port. */
function hostWithin(a: string, b: string): boolean {
  if (a === b) return true;
  const [hostA, portA] = splitHost(a);
  const [hostB, portB] = splitHost(b);
  return hostA === hostB && portB === undefined && portA !== undefined;
}

function splitHost(entry: string): [string, string | undefined] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(entry);
  return m ? [m[1].toLowerCase(), m[2]] : [entry.toLowerCase(), undefined];
}
