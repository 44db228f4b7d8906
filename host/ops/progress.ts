/**
 * The progress of a long operation (a backup, its dry run, a restore), as one event shape that
 * the CLI draws on a terminal, streams as JSON lines with `--json`, and the web view may show.
 *
 * Contract, for an operation that takes an `onProgress` listener:
 * - The listener is called synchronously, whenever a count or a total changes: as often as once
 *   per file, so it must be cheap. A presenter throttles what it shows. An error it throws is
 *   ignored (the next change calls it again): progress never changes what an operation does or
 *   what it returns.
 * - `filesDone`, `bytesDone` and `errors` never decrease within a run, but for the final event
 *   (below), whose counts are the run's own: a backup's bytes then leave out a file that failed
 *   half-read, which were counted as they were read.
 * - `filesTotal` and `bytesTotal` are absent until known, then present in every later event. A
 *   restore knows them from its plan, in its first event; a backup once a walk of the sources'
 *   sizes (`source_totals.ts`), run beside the backup, has ended. That walk is an estimate (files
 *   may come and go meanwhile), so `filesDone` may pass `filesTotal` before the end.
 * - The last event of a run that succeeds has `final: true`, and its counts are the run's own
 *   (a backup's snapshot stats, a restore's plan), with the totals equal to them. No event
 *   follows it. A run that fails sends no final event.
 * - `currentPath` is the absolute path of the file being read (backup) or just written
 *   (restore), as the operation knows it: not escaped for a terminal.
 * - `errors` counts entries not backed up whole so far (each is also a warning: unreadable,
 *   a special file, extended attributes not kept, changed while read). A restore has none: a
 *   file it cannot write stops it.
 *
 * @module
 */

/**
 * What is running: a backup, the dry run of one (`--dry-run`, `--estimate`), a restore, or a
 * rebuild or compaction, which count packs where the others count files ({@link unitOf}).
 */
export type ProgressPhase = "backup" | "dry-run" | "restore" | "rebuild" | "compact";

/**
 * What a phase's `filesDone` and `filesTotal` count: files, or for a rebuild and a compaction
 * the packs read (their `bytesDone` the bytes of those packs).
 */
export function unitOf(phase: ProgressPhase): "files" | "packs" {
  return phase === "rebuild" || phase === "compact" ? "packs" : "files";
}

/** One report of progress; see the module doc for the contract. */
export interface ProgressEvent {
  phase: ProgressPhase;
  filesDone: number;
  bytesDone: number;
  filesTotal?: number;
  bytesTotal?: number;
  currentPath?: string;
  errors: number;
  /** Since the operation started. */
  elapsedMs: number;
  /** The run's last event (see the module doc). */
  final: boolean;
}

export type OnProgress = (event: ProgressEvent) => void;

/**
 * Keeps an operation's counts and tells `listener` of every change (with no listener it only
 * counts). Counts that are not finite and non-negative are ignored: a plugin reports some.
 */
export class ProgressCounter {
  #files = 0;
  #bytes = 0;
  #errors = 0;
  #total?: { files: number; bytes: number };
  #current?: string;
  #start: number;
  #ended = false;

  constructor(
    readonly phase: ProgressPhase,
    private listener?: OnProgress,
    private now: () => number = () => performance.now(),
  ) {
    this.#start = now();
  }

  /** Adds files and bytes done; `current` is the file being read or just written. */
  add(files: number, bytes: number, current?: string): void {
    if (count(files)) this.#files += files;
    if (count(bytes)) this.#bytes += bytes;
    if (current !== undefined) this.#current = current;
    this.#emit(false);
  }

  /** Counts one entry not backed up whole. */
  error(): void {
    this.#errors++;
    this.#emit(false);
  }

  /** Sets the totals, once known. */
  totals(files: number, bytes: number): void {
    if (!count(files) || !count(bytes)) return;
    this.#total = { files, bytes };
    this.#emit(false);
  }

  /** Ends the run with its own counts, which become the totals too: the final event. */
  finish(files: number, bytes: number): void {
    this.#files = files;
    this.#bytes = bytes;
    this.#total = { files, bytes };
    this.#emit(true);
  }

  #event(final: boolean): ProgressEvent {
    return {
      phase: this.phase,
      filesDone: this.#files,
      bytesDone: this.#bytes,
      ...(this.#total ? { filesTotal: this.#total.files, bytesTotal: this.#total.bytes } : {}),
      ...(this.#current !== undefined ? { currentPath: this.#current } : {}),
      errors: this.#errors,
      elapsedMs: Math.max(0, this.now() - this.#start),
      final,
    };
  }

  #emit(final: boolean): void {
    if (this.#ended || this.listener === undefined) return;
    if (final) this.#ended = true;
    try {
      this.listener(this.#event(final));
    } catch {
      // A listener's failure (a closed stderr, a bug) must not stop a backup or a restore.
    }
  }
}

function count(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}
