/**
 * STS GetCallerIdentity on the EC2 endpoint (awsQuery protocol, version
 * 2011-06-15): what a builder calls to validate credentials.
 */
import { renderElement } from "./xml.ts";

const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

/** The GetCallerIdentity response body for the emulator's account. */
export function getCallerIdentityResponse(
  accountId: string,
  accessKeyId: string,
  requestId: string,
) {
  return renderElement("GetCallerIdentityResponse", {
    GetCallerIdentityResult: {
      Arn: `arn:aws:iam::${accountId}:user/kiln-test`,
      UserId: accessKeyId || "AIDAKILNTESTUSER00001",
      Account: accountId,
    },
    ResponseMetadata: { RequestId: requestId },
  }, STS_NAMESPACE);
}

/** The awsQuery error body STS answers with. */
export function stsErrorResponse(code: string, message: string, requestId: string): string {
  return renderElement("ErrorResponse", {
    Error: { Type: "Sender", Code: code, Message: message },
    RequestId: requestId,
  }, STS_NAMESPACE);
}
