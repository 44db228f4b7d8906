/**
 * Where each key of a TOML document stands: the line of every key, table header and array
 * element, by its path in the parsed document. The parser (smol-toml) gives a line for a syntax
 * error only; a mistake it cannot see (a wrong type, an unknown key, a relative path) is found
 * in the parsed value, and this map points the message at its line.
 *
 * It is a lexical scan, not a second parser: it assumes text that has already parsed. On text
 * that has not, it still ends, and its map is partial.
 *
 * @module
 */

/** A path in a parsed document: table keys and array indexes (`["source", 1, "paths", 0]`). */
export type TomlPath = readonly (string | number)[];

/** The lines of a document's keys; see the module's doc. */
export class TomlLines {
  readonly #lines: Map<string, number>;

  private constructor(lines: Map<string, number>) {
    this.#lines = lines;
  }

  /** The lines of `text`, a document that parses. */
  static scan(text: string): TomlLines {
    const scanner = new Scanner(text);
    scanner.document();
    return new TomlLines(scanner.lines);
  }

  /**
   * The line (from 1) where `path` is defined, else where its nearest ancestor is (a key left
   * out of a `[[source]]` table: the table's header); undefined for the document itself. A key
   * defined in pieces (`[a]` then `[a.b]`) is where it first appears.
   */
  lineOf(path: TomlPath): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.#lines.get(pathKey(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}

function pathKey(path: TomlPath): string {
  return JSON.stringify(path);
}

const BARE_KEY = /[A-Za-z0-9_-]/;
/** What ends a number, date, boolean or other unquoted value. */
const VALUE_END = new Set([",", "]", "}", "#", "\n", "\r"]);

/** One pass over the text, recording the line of each path where it first appears. */
class Scanner {
  readonly lines = new Map<string, number>();
  #i = 0;
  #line = 1;
  /** How many `[[x]]` headers each array of tables has had so far, by its resolved path. */
  readonly #arrays = new Map<string, number>();

  constructor(readonly text: string) {
    if (text.startsWith("\uFEFF")) this.#i = 1;
  }

  document(): void {
    let table: TomlPath = [];
    while (this.#skipBlank()) {
      const start = this.#i;
      if (this.#at("[[")) {
        this.#advance(2);
        table = this.#arrayTable(this.#key());
        this.#close("]]");
      } else if (this.#at("[")) {
        this.#advance(1);
        table = this.#resolve(this.#key());
        this.#record(table);
        this.#close("]");
      } else {
        this.#keyValue(table);
      }
      if (this.#i === start) this.#advance(1); // text that did not parse: move on regardless
    }
  }

  /** `[[a.b]]`: a new element of the array `a.b`, whose path has the element's index. */
  #arrayTable(keys: string[]): TomlPath {
    const array = [...this.#resolve(keys.slice(0, -1)), ...keys.slice(-1)];
    this.#record(array);
    const count = this.#arrays.get(pathKey(array)) ?? 0;
    this.#arrays.set(pathKey(array), count + 1);
    const element = [...array, count];
    this.#record(element);
    return element;
  }

  /**
   * A header's keys as a path, each prefix recorded (`[a.b]` defines `a` if nothing did): a key
   * naming an array of tables means its last element.
   */
  #resolve(keys: string[]): TomlPath {
    const path: (string | number)[] = [];
    for (const key of keys) {
      path.push(key);
      this.#record(path);
      const count = this.#arrays.get(pathKey(path));
      if (count !== undefined) path.push(count - 1);
    }
    return path;
  }

  /** `a.b = value` under `table`: records `a`, `a.b` and whatever the value holds. */
  #keyValue(table: TomlPath): void {
    const keys = this.#key();
    for (let n = 1; n <= keys.length; n++) this.#record([...table, ...keys.slice(0, n)]);
    this.#skipSpace();
    if (this.#at("=")) this.#advance(1);
    this.#skipSpace();
    this.#value([...table, ...keys]);
  }

  /** A dotted key: bare, "basic" or 'literal' parts separated by dots. */
  #key(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#at('"')) keys.push(decodeBasic(this.#quoted('"')));
      else if (this.#at("'")) keys.push(this.#quoted("'"));
      else {
        const start = this.#i;
        while (this.#i < this.text.length && BARE_KEY.test(this.text[this.#i])) this.#i++;
        if (this.#i === start) return keys;
        keys.push(this.text.slice(start, this.#i));
      }
      this.#skipSpace();
      if (!this.#at(".")) return keys;
      this.#advance(1);
    }
  }

  #value(path: TomlPath): void {
    if (this.#at('"""')) this.#multiline('"""');
    else if (this.#at("'''")) this.#multiline("'''");
    else if (this.#at('"')) this.#quoted('"');
    else if (this.#at("'")) this.#quoted("'");
    else if (this.#at("[")) this.#array(path);
    else if (this.#at("{")) this.#inlineTable(path);
    else {
      while (this.#i < this.text.length && !VALUE_END.has(this.text[this.#i])) this.#i++;
    }
  }

  #array(path: TomlPath): void {
    this.#advance(1);
    for (let index = 0; this.#skipBlank(); index++) {
      if (this.#at("]")) return this.#advance(1);
      const start = this.#i;
      this.#record([...path, index]);
      this.#value([...path, index]);
      this.#skipBlank();
      if (this.#at(",")) this.#advance(1);
      else if (this.#i === start) this.#advance(1);
    }
  }

  #inlineTable(path: TomlPath): void {
    this.#advance(1);
    while (this.#skipBlank()) {
      if (this.#at("}")) return this.#advance(1);
      const start = this.#i;
      this.#keyValue(path);
      this.#skipBlank();
      if (this.#at(",")) this.#advance(1);
      else if (this.#i === start) this.#advance(1);
    }
  }

  /** A one-line string from its opening quote; its text between the quotes. */
  #quoted(quote: string): string {
    this.#advance(1);
    const start = this.#i;
    while (this.#i < this.text.length && !this.#at(quote) && !this.#at("\n")) {
      this.#i += quote === '"' && this.#at("\\") ? 2 : 1;
    }
    const body = this.text.slice(start, this.#i);
    if (this.#at(quote)) this.#advance(1);
    return body;
  }

  /** A `"""` or `'''` string, which may end with up to two more quotes of its own. */
  #multiline(delimiter: string): void {
    this.#advance(3);
    while (this.#i < this.text.length) {
      if (delimiter === '"""' && this.#at("\\")) this.#advance(2);
      else if (this.#at(delimiter)) {
        this.#advance(3);
        for (let extra = 0; extra < 2 && this.#at(delimiter[0]); extra++) this.#advance(1);
        return;
      } else this.#advance(1);
    }
  }

  #record(path: TomlPath): void {
    const key = pathKey(path);
    if (!this.lines.has(key)) this.lines.set(key, this.#line);
  }

  /** Skips spaces, tabs, comments and line ends; whether any text is left. */
  #skipBlank(): boolean {
    for (;;) {
      this.#skipSpace();
      if (this.#at("#")) {
        while (this.#i < this.text.length && !this.#at("\n")) this.#i++;
      } else if (this.#at("\n") || this.#at("\r")) this.#advance(1);
      else return this.#i < this.text.length;
    }
  }

  #close(bracket: string): void {
    this.#skipSpace();
    if (this.#at(bracket)) this.#advance(bracket.length);
  }

  #skipSpace(): void {
    while (this.#at(" ") || this.#at("\t")) this.#i++;
  }

  #at(token: string): boolean {
    return this.text.startsWith(token, this.#i);
  }

  /** Moves `n` characters on, counting the line ends passed. */
  #advance(n: number): void {
    for (const end = Math.min(this.#i + n, this.text.length); this.#i < end; this.#i++) {
      if (this.text[this.#i] === "\n") this.#line++;
    }
  }
}

/** A basic string's escapes, those JSON shares with TOML; the text as written otherwise. */
function decodeBasic(body: string): string {
  try {
    return JSON.parse(`"${body}"`);
  } catch {
    return body;
  }
}
