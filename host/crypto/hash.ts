/**
 * SHA-256 object ids: the name of every content-addressed object (packs, index segments,
 * snapshots, key files) is the lowercase hex SHA-256 of its stored bytes (docs/format.md).
 *
 * @module
 */

import { createHash } from "node:crypto";

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
