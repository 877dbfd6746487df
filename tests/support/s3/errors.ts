/** S3's error answers: the XML `<Error>` document with S3's codes and status codes. */
import { escapeXml } from "../ec2/xml.ts";

/** A failure the emulator answers with S3's error shape. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** `<?xml ...?>` + body. */
export function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

/**
 * The HTTP answer for an error. HEAD answers carry no body (as S3's), so
 * clients see only the status there.
 */
export function errorResponse(error: S3Error, method = "GET"): Response {
  if (method === "HEAD") return new Response(null, { status: error.status });
  const fields = Object.entries(error.extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join("");
  return new Response(
    xml(
      `<Error><Code>${error.code}</Code><Message>${
        escapeXml(error.message)
      }</Message>${fields}<RequestId>${crypto.randomUUID()}</RequestId></Error>`,
    ),
    { status: error.status, headers: { "content-type": "application/xml" } },
  );
}

/** The errors the emulator raises, with S3's codes and messages. */
export const s3Errors = {
  noSuchBucket: (bucket: string) =>
    new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", {
      BucketName: bucket,
    }),
  noSuchKey: (key: string) =>
    new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key }),
  preconditionFailed: (condition: string) =>
    new S3Error(
      412,
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
      { Condition: condition },
    ),
  conditionalConflict: () =>
    new S3Error(
      409,
      "ConditionalRequestConflict",
      "A conflicting operation occurred. If using PutObject you can retry the request.",
    ),
  invalidArgument: (message: string, name: string, value: string) =>
    new S3Error(400, "InvalidArgument", message, { ArgumentName: name, ArgumentValue: value }),
  notImplemented: (message: string, extra: Record<string, string> = {}) =>
    new S3Error(501, "NotImplemented", message, extra),
  slowDown: () => new S3Error(503, "SlowDown", "Please reduce your request rate."),
  internalError: () =>
    new S3Error(500, "InternalError", "We encountered an internal error. Please try again."),
};
