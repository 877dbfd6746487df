/**
 * Renders EC2 Query API response bodies. EC2 answers in XML whose element
 * names are the lowerCamel wire names of the API reference, with every list
 * member wrapped in `<item>`; the SDK's deserializer keys on exactly those
 * names, so callers build plain objects using them.
 */

/** A value the renderer understands; `undefined`/`null` members are left out, as EC2 omits unset fields. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | null
  | XmlValue[]
  | { [name: string]: XmlValue };

/** The XML namespace of the 2016-11-15 EC2 API the SDK speaks. */
export const EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/";

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) =>
      c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === "&"
        ? "&amp;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}

function renderValue(value: XmlValue, listTag: string): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    return value.map((v) => `<${listTag}>${renderValue(v, listTag)}</${listTag}>`).join("");
  }
  if (typeof value === "object") return renderMembers(value, listTag);
  return escapeXml(String(value));
}

/**
 * Renders members as elements, unset ones left out; list members are wrapped
 * in `listTag` (`item` for EC2, `member` for the awsQuery services like IAM).
 */
export function renderMembers(members: { [name: string]: XmlValue }, listTag = "item"): string {
  let out = "";
  for (const [name, value] of Object.entries(members)) {
    if (value === undefined || value === null) continue;
    out += `<${name}>${renderValue(value, listTag)}</${name}>`;
  }
  return out;
}

/** Renders `<{Action}Response xmlns=...><requestId>..</requestId>...members</{Action}Response>`. */
export function renderEc2Response(
  action: string,
  requestId: string,
  members: { [name: string]: XmlValue },
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">` +
    `<requestId>${requestId}</requestId>${renderMembers(members)}</${action}Response>`;
}

/** Renders the EC2 error envelope the SDK's ec2Query protocol parses. */
export function renderEc2Error(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${
    escapeXml(code)
  }</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}` +
    `</RequestID></Response>`;
}

/** Renders an arbitrary element tree (used for the STS and S3 bodies, which are not EC2-shaped). */
export function renderElement(name: string, members: { [name: string]: XmlValue }, xmlns?: string) {
  const ns = xmlns ? ` xmlns="${xmlns}"` : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${name}${ns}>${
    renderMembers(members)
  }</${name}>`;
}
