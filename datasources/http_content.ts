/**
 * What the http data source makes of a response's headers: which content
 * types count as text, and the header map as Go's net/http presents it
 * (canonical names, repeated headers joined with ", "), since templates
 * written for Packer index it as `request_headers["Content-Type"]`.
 */

const TEXT_TYPES = [/^text\/.+/, /^application\/json$/, /^application\/samlmetadata\+xml/];
const TEXT_CHARSETS = ["", "utf-8", "us-ascii"];

/**
 * True for `text/*`, `application/json` and SAML metadata in UTF-8 or
 * ASCII (no charset means one of those): Packer's test for a body it can
 * hand to a template as a string.
 */
export function isTextContentType(contentType: string): boolean {
  const [type, ...params] = contentType.split(";");
  const mediaType = type.trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(mediaType)) return false;
  let charset = "";
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
  }
  return TEXT_TYPES.some((re) => re.test(mediaType)) && TEXT_CHARSETS.includes(charset);
}

/** Go's CanonicalMIMEHeaderKey: "content-type" → "Content-Type". */
export function canonicalHeaderName(name: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
}

/** The response headers by canonical name; a repeated header's values joined with ", " (RFC 2616). */
export function headerMap(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = canonicalHeaderName(name);
    out[key] = Object.hasOwn(out, key) ? `${out[key]}, ${value}` : value;
  }
  return out;
}
