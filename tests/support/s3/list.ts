/**
 * ListObjectsV2: prefix, delimiter (CommonPrefixes), start-after, max-keys
 * and continuation tokens, keys in UTF-8 binary order as S3 lists them.
 */
import { escapeXml } from "../ec2/xml.ts";
import { s3Errors, xml } from "./errors.ts";
import type { S3Object } from "./store.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const MAX_KEYS = 1000;
const encoder = new TextEncoder();

/** Orders strings by their UTF-8 bytes (JavaScript's `<` orders UTF-16 units, which differs above U+FFFF). */
export function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Where the next page starts: after `after`, and after everything under it when it was a CommonPrefix. */
interface Resume {
  after: string;
  rolledUp: boolean;
}

function encodeToken(resume: Resume): string {
  return btoa(String.fromCharCode(...encoder.encode(JSON.stringify(resume))));
}

function decodeToken(token: string): Resume {
  try {
    const bytes = Uint8Array.from(atob(token), (c) => c.charCodeAt(0));
    const parsed = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed.after === "string" && typeof parsed.rolledUp === "boolean") return parsed;
  } catch {
    // fall through to the error S3 gives for a token it did not issue
  }
  throw s3Errors.invalidArgument(
    "The continuation token provided is incorrect",
    "continuation-token",
    token,
  );
}

function maxKeysOf(value: string | null): number {
  if (value === null) return MAX_KEYS;
  if (!/^\d+$/.test(value)) {
    throw s3Errors.invalidArgument(
      "Provided max-keys not an integer or within integer range",
      "max-keys",
      value,
    );
  }
  return Math.min(Number(value), MAX_KEYS);
}

/** The ListObjectsV2 answer for a bucket's objects and the request's query. */
export function listObjectsV2(
  bucket: string,
  objects: Iterable<S3Object>,
  params: URLSearchParams,
): Response {
  const prefix = params.get("prefix") ?? "";
  const delimiter = params.get("delimiter") ?? "";
  const startAfter = params.get("start-after") ?? "";
  const token = params.get("continuation-token");
  const maxKeys = maxKeysOf(params.get("max-keys"));
  const resume: Resume = token !== null
    ? decodeToken(token)
    : { after: startAfter, rolledUp: false };
  const candidates = [...objects]
    .filter((o) => o.key.startsWith(prefix) && compareUtf8(o.key, resume.after) > 0)
    .filter((o) => !(resume.rolledUp && o.key.startsWith(resume.after)))
    .sort((a, b) => compareUtf8(a.key, b.key));

  const contents: S3Object[] = [];
  const commonPrefixes: string[] = [];
  let last: Resume | undefined;
  let truncated = false;
  for (const object of candidates) {
    const cut = delimiter ? object.key.indexOf(delimiter, prefix.length) : -1;
    const rolled = cut >= 0 ? object.key.slice(0, cut + delimiter.length) : undefined;
    if (rolled !== undefined && last?.rolledUp && last.after === rolled) continue;
    if (contents.length + commonPrefixes.length >= maxKeys) {
      // max-keys=0 asks for no entries; there is then no page to continue from.
      truncated = last !== undefined;
      break;
    }
    if (rolled !== undefined) {
      commonPrefixes.push(rolled);
      last = { after: rolled, rolledUp: true };
    } else {
      contents.push(object);
      last = { after: object.key, rolledUp: false };
    }
  }
  const element = (name: string, value: string) =>
    value ? `<${name}>${escapeXml(value)}</${name}>` : "";
  const body = `<ListBucketResult xmlns="${S3_NS}"><Name>${escapeXml(bucket)}</Name>` +
    `<Prefix>${escapeXml(prefix)}</Prefix>${element("Delimiter", delimiter)}` +
    `${element("StartAfter", startAfter)}${element("ContinuationToken", token ?? "")}` +
    `<KeyCount>${contents.length + commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
    `<IsTruncated>${truncated}</IsTruncated>` +
    (truncated && last ? element("NextContinuationToken", encodeToken(last)) : "") +
    contents.map((o) =>
      `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>${o.lastModified.toISOString()}` +
      `</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size>` +
      `<StorageClass>STANDARD</StorageClass></Contents>`
    ).join("") +
    commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`)
      .join("") +
    `</ListBucketResult>`;
  return new Response(xml(body), { headers: { "content-type": "application/xml" } });
}
