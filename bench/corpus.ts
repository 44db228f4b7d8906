/**
 * The benchmark corpus: a deterministic tree that looks like a home directory to a backup tool.
 * Tens of thousands of small text-like files (prose, source code, logs and data, some binary,
 * some exact duplicates) in nested directories of 20-50 files, plus a few large binaries
 * (incompressible ones and one partly repetitive image). Everything comes from seeded
 * generators (bench/prng.ts), so a given version and size gives the same bytes everywhere.
 *
 * The corpus is written once into a cache directory and reused while a marker file next to it
 * (`<dir>.complete.json`) says it is complete; the marker is written last.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { keystream, Rng } from "./prng.ts";

/** Bump when the generator changes: a new version gets a new directory. */
export const CORPUS_VERSION = 1;

/** What to generate. */
export interface CorpusSpec {
  /** Number of small files (default 40,000, about 400 MB). */
  files: number;
  /** Size of each of the 4 incompressible large files (default 64 MiB; 0 for none). */
  largeRandom: number;
  /** Size of the partly repetitive large file (default 128 MiB; 0 for none). */
  largeMixed: number;
}

/** The default corpus (about 800 MB) scaled by `scale`; `files` overrides the small-file count. */
export function corpusSpec(scale = 1, files?: number): CorpusSpec {
  const mib = (n: number) => Math.round(n * scale) << 20;
  return {
    files: files ?? Math.round(40_000 * scale),
    largeRandom: mib(64),
    largeMixed: mib(128),
  };
}

/** What a corpus holds, as recorded in its marker (or measured for a user's directory). */
export interface CorpusInfo {
  dir: string;
  files: number;
  dirs: number;
  bytes: number;
  /** Seconds spent generating it now; 0 when reused or given. */
  generatedSeconds: number;
  /**
   * A folder and a file in it (paths relative to `dir`) for the probe steps (`ls`, `find`,
   * `restore-one`); only the million-file corpus names one.
   */
  probe?: { dir: string; file: string };
  /** What the corpus is, for the report (e.g. which system folders were copied). */
  source?: string;
}

/** Name of the cache directory for `spec` (one per version and size). */
export function corpusName(spec: CorpusSpec): string {
  const mib = (n: number) => Math.round(n / (1 << 20));
  return `corpus-v${CORPUS_VERSION}-f${spec.files}-r${mib(spec.largeRandom)}-m${
    mib(spec.largeMixed)
  }`;
}

/**
 * Returns the corpus for `spec` under `cacheDir`, generating it first unless its marker says a
 * complete copy is already there. A partial copy (no marker) is removed and regenerated.
 */
export function ensureCorpus(
  cacheDir: string,
  spec: CorpusSpec,
  log = (_: string) => {},
): CorpusInfo {
  const dir = path.join(cacheDir, corpusName(spec));
  const marker = `${dir}.complete.json`;
  try {
    const info = JSON.parse(fs.readFileSync(marker, "utf8")) as CorpusInfo;
    if (fs.statSync(dir).isDirectory()) return { ...info, dir, generatedSeconds: 0 };
  } catch {
    // no complete corpus yet
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`generating corpus in ${dir} ...`);
  const t0 = performance.now();
  const counts = new Generator(dir, spec).run();
  const info: CorpusInfo = { dir, ...counts, generatedSeconds: (performance.now() - t0) / 1000 };
  fs.writeFileSync(marker, JSON.stringify(info, null, 2));
  return info;
}

/** Counts the regular files, directories and file bytes under `dir` (for a user's directory). */
export function measureTree(dir: string): CorpusInfo {
  let files = 0, dirs = 0, bytes = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        dirs++;
        walk(p);
      } else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(dir);
  return { dir, files, dirs, bytes, generatedSeconds: 0 };
}

type Kind = "prose" | "code" | "log" | "data" | "binary";
const KINDS: Kind[] = ["prose", "code", "log", "data", "binary"];
const KIND_WEIGHTS = [0.28, 0.37, 0.12, 0.13, 0.10];
const EXTENSIONS: Record<Kind, string[]> = {
  prose: [".txt", ".md", ".html", ".tex"],
  code: [".ts", ".c", ".h", ".py", ".go", ".rs", ".java"],
  log: [".log", ".out"],
  data: [".json", ".csv", ".xml", ".yaml"],
  binary: [".png", ".jpg", ".gz", ".pdf", ".o"],
};
const KEYWORDS = [
  "const",
  "let",
  "return",
  "if",
  "else",
  "for",
  "while",
  "function",
  "import",
  "export",
  "class",
  "new",
  "await",
  "async",
  "static",
  "struct",
  "int",
  "void",
  "true",
  "false",
  "null",
];
const enc = new TextEncoder();

/** Writes one corpus; every choice comes from `rng` or a per-file keystream. */
class Generator {
  readonly rng: Rng;
  readonly vocab: Uint8Array[];
  readonly names: string[];
  /** Contents written so far that a duplicate may copy (a bounded sample). */
  readonly earlier: Uint8Array[] = [];
  files = 0;
  dirs = 0;
  bytes = 0;
  buf = new Uint8Array(64 << 10);
  len = 0;
  cap = 0;

  constructor(readonly root: string, readonly spec: CorpusSpec) {
    this.rng = new Rng(`permafrost-bench corpus v${CORPUS_VERSION} ${spec.files}`);
    const syllables = "ka ro mi tel san dor vek lu pha in ex gor ti nal bre qu os arn el yd"
      .split(" ");
    const vocabRng = new Rng("vocabulary");
    const words = new Set<string>();
    while (words.size < 4096) {
      let w = "";
      const n = vocabRng.int(1, 4);
      for (let i = 0; i < n; i++) w += vocabRng.pick(syllables);
      words.add(w);
    }
    this.names = [...words];
    this.vocab = this.names.map((w) => enc.encode(w));
  }

  run(): { files: number; dirs: number; bytes: number } {
    let remaining = this.spec.files;
    let top = 0;
    while (remaining > 0) {
      remaining = this.dir(path.join(this.root, `${this.name()}-${top++}`), 1, remaining);
    }
    if (this.spec.largeRandom > 0 || this.spec.largeMixed > 0) this.large();
    return { files: this.files, dirs: this.dirs, bytes: this.bytes };
  }

  /** A word biased to the frequent end of the vocabulary (roughly Zipf-like). */
  word(): Uint8Array {
    const u = this.rng.float();
    return this.vocab[Math.floor(u * u * u * this.vocab.length)];
  }

  name(): string {
    return this.names[this.rng.int(0, 1023)];
  }

  /** Writes directory `dir` at `depth` with its files and subdirectories; returns files left. */
  dir(dir: string, depth: number, remaining: number): number {
    fs.mkdirSync(dir);
    this.dirs++;
    const dominant = this.kind();
    const used = new Set<string>();
    const count = Math.min(remaining, this.rng.int(20, 50));
    for (let i = 0; i < count; i++) {
      const kind = this.rng.float() < 0.7 ? dominant : this.kind();
      let name = `${this.name()}${this.rng.pick(EXTENSIONS[kind])}`;
      while (used.has(name)) name = `${this.name()}_${name}`;
      used.add(name);
      this.write(path.join(dir, name), this.content(kind));
    }
    remaining -= count;
    const fanout =
      [0, this.rng.int(4, 7), this.rng.int(3, 6), this.rng.int(1, 4), this.rng.int(0, 3), 0][depth];
    for (let i = 0; i < fanout && remaining > 0; i++) {
      remaining = this.dir(path.join(dir, `${this.name()}-${i}`), depth + 1, remaining);
    }
    return remaining;
  }

  kind(): Kind {
    let u = this.rng.float();
    for (let i = 0; i < KINDS.length; i++) if ((u -= KIND_WEIGHTS[i]) < 0) return KINDS[i];
    return "prose";
  }

  write(file: string, data: Uint8Array): void {
    fs.writeFileSync(file, data);
    this.files++;
    this.bytes += data.length;
  }

  /** The content of one small file: 100 B - 64 KiB, log-uniform; 5% copy an earlier file. */
  content(kind: Kind): Uint8Array {
    if (this.earlier.length > 0 && this.rng.float() < 0.05) return this.rng.pick(this.earlier);
    const size = this.rng.logInt(100, 64 << 10);
    let data: Uint8Array;
    if (kind === "binary") data = keystream(`file ${this.files}`, size);
    else {
      this.start(size);
      if (kind === "prose") this.prose();
      else if (kind === "code") this.code();
      else if (kind === "log") this.log();
      else this.data();
      data = this.buf.slice(0, size);
    }
    if (this.earlier.length < 2000) this.earlier.push(data);
    else if (this.rng.float() < 0.01) this.earlier[this.rng.int(0, 1999)] = data;
    return data;
  }

  start(size: number): void {
    if (this.buf.length < size + 1024) this.buf = new Uint8Array(size + 1024);
    this.len = 0;
    this.cap = size;
  }

  full(): boolean {
    return this.len >= this.cap;
  }

  put(bytes: Uint8Array): void {
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  text(s: string): void {
    this.len += enc.encodeInto(s, this.buf.subarray(this.len)).written;
  }

  prose(): void {
    while (!this.full()) {
      const sentences = this.rng.int(2, 8);
      for (let s = 0; s < sentences && !this.full(); s++) {
        const words = this.rng.int(4, 18);
        for (let w = 0; w < words; w++) {
          this.put(this.word());
          this.text(w === words - 1 ? ". " : this.rng.float() < 0.08 ? ", " : " ");
        }
      }
      this.text("\n\n");
    }
  }

  /** Source-code-like text: a file reuses a few dozen identifiers, as real code does. */
  code(): void {
    const ids: string[] = [];
    for (let k = this.rng.int(12, 60); k > 0; k--) ids.push(this.name());
    const id = () => {
      const u = this.rng.float();
      return ids[Math.floor(u * u * ids.length)];
    };
    let depth = 0;
    while (!this.full()) {
      this.text("  ".repeat(depth));
      const u = this.rng.float();
      if (u < 0.12 && depth < 6) {
        this.text(`${this.rng.pick(KEYWORDS)} ${id()}(${id()}, ${id()}) {\n`);
        depth++;
      } else if (u < 0.24 && depth > 0) {
        this.text("}\n");
        depth--;
      } else if (u < 0.32) {
        this.text("// ");
        for (let w = this.rng.int(3, 12); w > 0; w--) (this.put(this.word()), this.text(" "));
        this.text("\n");
      } else if (u < 0.44) {
        this.text(`return ${id()}.${id()}[${this.rng.int(0, 9)}];\n`);
      } else {
        this.text(`${this.rng.pick(KEYWORDS)} ${id()} = ${id()}.${id()}(${id()}, `);
        this.text(`${this.rng.int(0, 64)}, "${id()}");\n`);
      }
    }
  }

  log(): void {
    let t = Date.UTC(2024, 0, 1) + this.rng.int(0, 300 * 86400) * 1000;
    const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
    while (!this.full()) {
      t += this.rng.int(0, 5000);
      this.text(`${new Date(t).toISOString()} ${this.rng.pick(levels)} [${this.name()}] `);
      for (let w = this.rng.int(3, 10); w > 0; w--) (this.put(this.word()), this.text(" "));
      this.text(`id=${this.rng.u32().toString(16)} took=${this.rng.int(0, 2000)}ms\n`);
    }
  }

  data(): void {
    const fields = [this.name(), this.name(), this.name(), this.name()];
    this.text(`${fields.join(",")}\n`);
    while (!this.full()) {
      this.text(`${this.rng.int(0, 1e6)},${(this.rng.float() * 1000).toFixed(3)},`);
      this.put(this.word());
      this.text(`,${this.rng.int(0, 1) ? "true" : "false"}\n`);
    }
  }

  /** The large files: 4 incompressible ones and one image of mixed, partly repeated content. */
  large(): void {
    const dir = path.join(this.root, "large");
    fs.mkdirSync(dir);
    this.dirs++;
    if (this.spec.largeRandom > 0) {
      for (let i = 0; i < 4; i++) {
        this.write(
          path.join(dir, `archive-${i}.bin`),
          keystream(`large ${i}`, this.spec.largeRandom),
        );
      }
    }
    if (this.spec.largeMixed > 0) {
      this.write(path.join(dir, "disk.img"), this.mixed(this.spec.largeMixed));
    }
  }

  /**
   * A disk-image-like file: segments of fresh random bytes, copies of earlier ranges at
   * unaligned offsets (dedup finds them only with content-defined chunking), text, and zeros.
   */
  mixed(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let off = 0, seg = 0;
    while (off < size) {
      const u = this.rng.float();
      const len = Math.min(size - off, this.rng.int(64 << 10, 3 << 20));
      if (u < 0.35 || off < (4 << 20)) out.set(keystream(`mixed ${seg}`, len), off);
      else if (u < 0.65) {
        const from = this.rng.int(0, off - len > 0 ? off - len : 0);
        out.copyWithin(off, from, from + Math.min(len, off - from));
      } else if (u < 0.9) {
        this.start(len);
        this.prose();
        out.set(this.buf.subarray(0, len), off);
      } // else zeros
      off += len;
      seg++;
    }
    return out;
  }
}
