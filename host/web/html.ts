/**
 * HTML that escapes by default: the `html` tag escapes every interpolated value unless it is
 * already {@link Html} (made by `html` or {@link raw}). Arrays are joined, `null`/`undefined`/
 * `false` render as nothing. Every page of the web view is built with it, so a snapshot tagged
 * `<script>` shows as text.
 *
 * @module
 */

/** Markup that is safe to put in a page as it is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` with `& < > " '` replaced by entities: safe in element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

/** Markup taken as it is: only for strings this program wrote, never for data. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** One interpolated value as markup. */
function part(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(part).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** The template tag: literal parts as written, interpolations escaped. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new Html(out);
}
