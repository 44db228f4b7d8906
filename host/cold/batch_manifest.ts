/**
 * The manifest of an S3 Batch Operations restore (docs/s3.md §7): a CSV object, format
 * `S3BatchOperations_CSV_20180820`, one line per object: `bucket,key` or `bucket,key,version`,
 * no header, the key URL-encoded (each `/`-separated part with `encodeURIComponent`, as S3's
 * manifest format asks). Every line has the same fields: where one object names a version,
 * the manifest's fields are Bucket, Key, VersionId.
 *
 * @module
 */

/** One object of a manifest. */
export interface ManifestObject {
  key: string;
  versionId?: string;
}

/** A manifest's text, and the fields CreateJob is told its lines have. */
export interface Manifest {
  csv: string;
  fields: ("Bucket" | "Key" | "VersionId")[];
  objects: number;
}

/**
 * The manifest of `objects` in `bucket`. A `TypeError` for no objects, or for a version
 * missing on some objects while others have one (S3 reads every line with the same fields).
 */
export function restoreManifest(bucket: string, objects: ManifestObject[]): Manifest {
  if (objects.length === 0) throw new TypeError("a restore manifest needs at least one object");
  const versioned = objects.filter((o) => o.versionId !== undefined).length;
  if (versioned !== 0 && versioned !== objects.length) {
    throw new TypeError(
      `restore manifest: ${versioned} of ${objects.length} objects name a version; ` +
        "name one for every object or for none",
    );
  }
  const encode = (key: string) => key.split("/").map(encodeURIComponent).join("/");
  const lines = objects.map((o) =>
    [bucket, encode(o.key), ...(o.versionId === undefined ? [] : [o.versionId])].join(",")
  );
  return {
    csv: lines.join("\n") + "\n",
    fields: versioned ? ["Bucket", "Key", "VersionId"] : ["Bucket", "Key"],
    objects: objects.length,
  };
}
