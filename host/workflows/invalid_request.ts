/**
 * The error a workflow throws for a request it cannot carry out as asked (a tier the packs do
 * not offer, an unknown region): the caller's mistake, not the repository's. The CLI shows it
 * as a usage error (exit status 2), the web view next to its form.
 *
 * @module
 */

/** A request a workflow refuses as asked; its message names the value in quotes. */
export class InvalidRequest extends RangeError {
  override name = "InvalidRequest";
}
