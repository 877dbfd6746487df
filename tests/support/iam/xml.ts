/**
 * IAM's awsQuery response shapes: `<{Action}Response><{Action}Result>...`
 * with list members wrapped in `<member>` (EC2 uses `<item>`), and the
 * `ErrorResponse` envelope with a `Sender` error.
 */
import { escapeXml, renderMembers, type XmlValue } from "../ec2/xml.ts";

export type { XmlValue };

/** The namespace of the 2010-05-08 IAM API. */
export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

type Members = { [name: string]: XmlValue };

/** A successful answer; `result` undefined for actions that return nothing. */
export function renderIamResponse(
  action: string,
  requestId: string,
  result: Members | undefined,
): string {
  const body = result
    ? `<${action}Result>${renderMembers(result, "member")}</${action}Result>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${IAM_NAMESPACE}">` +
    `${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`;
}

/** The error envelope the SDK's awsQuery protocol parses. */
export function renderIamError(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${IAM_NAMESPACE}">` +
    `<Error><Type>Sender</Type><Code>${escapeXml(code)}</Code><Message>${
      escapeXml(message)
    }</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
