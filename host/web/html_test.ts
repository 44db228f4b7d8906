import assert from "node:assert/strict";
import { escapeHtml, html, raw } from "./html.ts";

Deno.test("escapeHtml() replaces the five characters that can break out of text or an attribute", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("html`` escapes interpolated strings but keeps markup it made itself", () => {
  const tag = "<script>alert(1)</script>";
  const inner = html`<b>${tag}</b>`;
  assert.equal(
    html`<p title="${tag}">${inner}</p>`.value,
    `<p title="&lt;script&gt;alert(1)&lt;/script&gt;"><b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p>`,
  );
});

Deno.test("html`` joins arrays and renders null, undefined and false as nothing", () => {
  assert.equal(html`${["<", html`<i>`, 3]}${null}${undefined}${false}`.value, "&lt;<i>3");
});

Deno.test("raw() is taken as it is", () => {
  assert.equal(html`${raw("<hr>")}`.value, "<hr>");
});
