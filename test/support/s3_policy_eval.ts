/**
 * A small IAM evaluator for tests: decides one S3 request against the documents that
 * `policy.ts` generates, so tests can state what a role may do ("ingest cannot delete a
 * pack") instead of matching JSON. It knows only the condition operators those documents use
 * and throws on any other, so a new condition cannot pass untested. Semantics follow
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * for one account: an explicit deny wins, then an allow, else the request is implicitly denied.
 * `ignoreConditions` mimics moto, which treats every condition it does not evaluate (all that
 * these documents use) as met.
 *
 * @module
 */

import type { PolicyDocument, PolicyStatement } from "../../host/s3/policy.ts";

/** One request: who, which action, on which ARN, with which condition keys present. */
export interface S3Request {
  action: string;
  resource: string;
  /** `aws:PrincipalArn`; absent for an anonymous request. */
  principalArn?: string;
  /** Request condition keys, e.g. `{"s3:if-none-match": "*", "s3:ObjectCreationOperation": "true"}`. */
  context?: Record<string, string>;
}

export type Decision = "allow" | "deny" | "implicit-deny";

/** The decision for `req` under an identity policy and, optionally, a bucket policy. */
export function evaluate(
  req: S3Request,
  identity: PolicyDocument | null,
  bucket?: PolicyDocument,
  options: { ignoreConditions?: boolean } = {},
): Decision {
  const statements = [
    ...(identity?.Statement ?? []),
    ...(bucket?.Statement ?? []),
  ];
  const matching = statements.filter((s) => applies(s, req, options.ignoreConditions === true));
  if (matching.some((s) => s.Effect === "Deny")) return "deny";
  if (matching.some((s) => s.Effect === "Allow")) return "allow";
  return "implicit-deny";
}

function applies(s: PolicyStatement, req: S3Request, ignoreConditions: boolean): boolean {
  if (s.Principal !== undefined && s.Principal !== "*") {
    if (!req.principalArn || !s.Principal.AWS.includes(req.principalArn)) return false;
  }
  if (!s.Action.some((a) => wildcard(a).test(req.action))) return false;
  if (!s.Resource.some((r) => wildcard(r).test(req.resource))) return false;
  if (ignoreConditions) return true;
  return Object.entries(s.Condition ?? {}).every(([op, keys]) =>
    Object.entries(keys).every(([key, want]) => condition(op, key, want, req))
  );
}

function condition(op: string, key: string, want: string | string[], req: S3Request): boolean {
  const values = Array.isArray(want) ? want : [want];
  const ctx: Record<string, string | undefined> = {
    ...req.context,
    "aws:PrincipalArn": req.principalArn,
  };
  const have = ctx[key];
  switch (op) {
    case "Null":
      return values.every((v) => (v === "true") === (have === undefined));
    case "Bool":
      return have !== undefined && values.includes(have);
    case "StringLike":
      return have !== undefined && values.some((v) => wildcard(v).test(have));
    case "ArnNotLike":
      return have === undefined || !values.some((v) => wildcard(v).test(have));
  }
  throw new TypeError(`the test evaluator does not know condition operator "${op}"`);
}

/** IAM's `*` (any run of characters, `/` included) and `?` (one character). */
function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${body}$`);
}
