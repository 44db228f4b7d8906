/**
 * A file's MIME type from its first bytes (their "magic"), else from its extension; undefined
 * when neither tells.
 *
 * @module
 */

/** Signatures: the bytes a file starts with (at `offset`), and the type they mean. */
const magic: { bytes: number[]; offset?: number; type: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], type: "image/png" },
  { bytes: [0xff, 0xd8, 0xff], type: "image/jpeg" },
  { bytes: [0x47, 0x49, 0x46, 0x38], type: "image/gif" },
  { bytes: [0x57, 0x45, 0x42, 0x50], offset: 8, type: "image/webp" },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], type: "application/pdf" },
  { bytes: [0x1f, 0x8b], type: "application/gzip" },
  { bytes: [0x50, 0x4b, 0x03, 0x04], type: "application/zip" },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], type: "application/x-elf" },
  { bytes: [0x66, 0x74, 0x79, 0x70], offset: 4, type: "video/mp4" },
];

const byExtension: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  gz: "application/gzip",
  zip: "application/zip",
  mp4: "video/mp4",
  mov: "video/quicktime",
  mp3: "audio/mpeg",
  txt: "text/plain",
  md: "text/markdown",
  html: "text/html",
  json: "application/json",
};

/** How many first bytes {@link sniff} needs. */
export const SNIFF_LENGTH = 16;

/** The type the first bytes of a file say, if any signature matches. */
export function sniff(head: Uint8Array): string | undefined {
  return magic.find(({ bytes, offset = 0 }) =>
    head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b)
  )?.type;
}

/** The type a file name's extension says, if known. */
export function fromExtension(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? undefined : byExtension[name.slice(dot + 1).toLowerCase()];
}

/** Whether `type` is one of `patterns` (`image/png`, or a whole family: `image/*`). */
export function matches(type: string, patterns: string[]): boolean {
  return patterns.some((p) => p === type || (p.endsWith("/*") && type.startsWith(p.slice(0, -1))));
}
