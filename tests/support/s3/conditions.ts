/**
 * S3's conditional headers, evaluated against the object a request finds:
 * writes (PutObject), deletes (DeleteObject / DeleteObjects) and reads
 * (GetObject / HeadObject). The answers follow the AWS S3 User Guide's
 * "conditional writes", "conditional deletes" and "conditional requests" pages.
 */
import { type S3Error, s3Errors } from "./errors.ts";
import type { S3Object } from "./store.ts";

/** An ETag without quotes or a weak `W/` prefix: S3 compares values, not quoting. */
function bareEtag(value: string): string {
  return value.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** True when an `If-Match` / `If-None-Match` value (`*`, one ETag or a list) names `etag`. */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const wanted = bareEtag(etag);
  return header.split(",").some((candidate) => bareEtag(candidate) === wanted);
}

/**
 * The error a PutObject's preconditions raise against the key's current
 * object, if any. `If-None-Match` on a write accepts only `*` and not together
 * with `If-Match` (else 501 NotImplemented); `If-Match` on a missing key is 404
 * `NoSuchKey`, on a different ETag 412.
 */
export function writePreconditionError(
  headers: Headers,
  current: S3Object | undefined,
  key: string,
): S3Error | undefined {
  const ifNoneMatch = headers.get("if-none-match");
  const ifMatch = headers.get("if-match");
  // S3 answers 501 for an If-None-Match other than '*' (aws-sdk-ruby#3144 shows it from AWS)
  // and, as S3-compatible gateways mirror it, for both headers on one write.
  if (ifNoneMatch !== null && (ifNoneMatch.trim() !== "*" || ifMatch !== null)) {
    return s3Errors.notImplemented(
      "A header you provided implies functionality that is not implemented",
      {
        Header: "If-None-Match",
        additionalMessage:
          "We don't accept the provided value of If-None-Match header for this API",
      },
    );
  }
  if (ifMatch !== null) {
    if (!current) return s3Errors.noSuchKey(key);
    if (!etagMatches(ifMatch, current.etag)) return s3Errors.preconditionFailed("If-Match");
  }
  if (ifNoneMatch !== null && current) return s3Errors.preconditionFailed("If-None-Match");
  return undefined;
}

/** True when a write carries a precondition (and so takes part in conflict detection). */
export function isConditionalWrite(headers: Headers): boolean {
  return headers.has("if-match") || headers.has("if-none-match");
}

/**
 * The error a conditional delete raises: `If-Match` (an ETag or `*`) on a
 * missing key is 404 `NoSuchKey`, on a different ETag 412. Without `If-Match`
 * a delete of a missing key succeeds, as S3's does.
 */
export function deletePreconditionError(
  ifMatch: string | null,
  current: S3Object | undefined,
  key: string,
): S3Error | undefined {
  if (ifMatch === null) return undefined;
  if (!current) return s3Errors.noSuchKey(key);
  if (!etagMatches(ifMatch, current.etag)) return s3Errors.preconditionFailed("If-Match");
  return undefined;
}

function httpDate(value: string | null): number | undefined {
  if (value === null) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * What a GetObject / HeadObject's conditional headers decide: serve the object,
 * 412 (`If-Match`, `If-Unmodified-Since`), or 304 Not Modified
 * (`If-None-Match`, `If-Modified-Since`). As S3 documents, a true `If-Match`
 * overrides a false `If-Unmodified-Since`, and a false `If-None-Match`
 * overrides a true `If-Modified-Since`.
 */
export function readPrecondition(
  headers: Headers,
  object: S3Object,
): "serve" | "not-modified" | S3Error {
  // Last-Modified travels with one-second resolution; compare at that resolution.
  const modified = Math.floor(object.lastModified.getTime() / 1000) * 1000;
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (!etagMatches(ifMatch, object.etag)) return s3Errors.preconditionFailed("If-Match");
  } else {
    const unmodifiedSince = httpDate(headers.get("if-unmodified-since"));
    if (unmodifiedSince !== undefined && modified > unmodifiedSince) {
      return s3Errors.preconditionFailed("If-Unmodified-Since");
    }
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (etagMatches(ifNoneMatch, object.etag)) return "not-modified";
  } else {
    const modifiedSince = httpDate(headers.get("if-modified-since"));
    if (modifiedSince !== undefined && modified <= modifiedSince) return "not-modified";
  }
  return "serve";
}
