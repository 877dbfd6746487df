/**
 * What the test listener answers, shaped as Windows' WinRM service shapes
 * it (its prefixes — s:, a:, w:, rsp: — differ from the clients', which is
 * exactly what a faithful peer should exercise).
 */
import { xmlEscape } from "../../../communicators/winrm_xml.ts";
import { NS, SHELL_URI, STATE_DONE, STATE_RUNNING } from "../../../communicators/winrm_soap.ts";

const ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
const XMLNS = `xmlns:s="${NS.env}" xmlns:a="${NS.a}" xmlns:x="${NS.x}" xmlns:w="${NS.w}" ` +
  `xmlns:rsp="${NS.rsp}" xmlns:p="${NS.p}"`;

/** A response envelope relating to the request `relatesTo`. */
export function reply(action: string, relatesTo: string, body: string): string {
  return `<s:Envelope xml:lang="en-US" ${XMLNS}><s:Header>` +
    `<a:Action>${action}</a:Action>` +
    `<a:MessageID>uuid:${crypto.randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>${ANONYMOUS}</a:To>` +
    `<a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` +
    `</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** A fault as Windows words one: SOAP code, WS-Man subcode, reason, WSManFault detail. */
export interface FaultSpec {
  code: "Sender" | "Receiver";
  subcode: string;
  reason: string;
  wsmanCode: string;
}

/** Well-known faults. */
export const FAULTS = {
  timedOut: {
    code: "Receiver",
    subcode: "w:TimedOut",
    reason:
      "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
    wsmanCode: "2150858793",
  },
  shellNotFound: (id: string): FaultSpec => ({
    code: "Sender",
    subcode: "w:InvalidSelectors",
    reason:
      `The request for the Windows Remote Shell with ShellId ${id} failed because the shell ` +
      "was not found on the server. Possible causes are: the specified ShellId is incorrect or " +
      "the shell no longer exists on the server. Provide the correct ShellId or create a new " +
      "shell and retry the operation.",
    wsmanCode: "2150858843",
  }),
  envelopeTooLarge: (size: number, max: number): FaultSpec => ({
    code: "Sender",
    subcode: "w:EncodingLimit",
    reason: `The WS-Management service cannot process the request because the request size ` +
      `(${size} bytes) exceeds the MaxEnvelopeSize quota (${max} bytes).`,
    wsmanCode: "2150858817",
  }),
  actionNotSupported: (action: string): FaultSpec => ({
    code: "Sender",
    subcode: "a:ActionNotSupported",
    reason: `The action ${action} is not supported by the service.`,
    wsmanCode: "2150858753",
  }),
  invalid: (why: string): FaultSpec => ({
    code: "Sender",
    subcode: "w:SchemaValidationError",
    reason:
      `The SOAP XML in the message does not match the corresponding XML schema definition: ${why}`,
    wsmanCode: "2150858778",
  }),
} satisfies Record<string, FaultSpec | ((...a: never[]) => FaultSpec)>;

/** A SOAP fault envelope (sent with HTTP 500). */
export function fault(spec: FaultSpec, relatesTo: string): string {
  return reply(
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
    relatesTo,
    `<s:Fault><s:Code><s:Value>s:${spec.code}</s:Value><s:Subcode><s:Value>${spec.subcode}` +
      `</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">${
        xmlEscape(spec.reason)
      }</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="${NS.f}" Code="${spec.wsmanCode}" ` +
      `Machine="127.0.0.1"><f:Message>${xmlEscape(spec.reason)}</f:Message></f:WSManFault>` +
      `</s:Detail></s:Fault>`,
  );
}

/** Body of a Create response. */
export function shellCreated(url: string, shellId: string): string {
  return `<x:ResourceCreated><a:Address>${xmlEscape(url)}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${SHELL_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` +
    `${shellId}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
    `<rsp:Shell><rsp:ShellId>${shellId}</rsp:ShellId><rsp:ResourceUri>${SHELL_URI}` +
    `</rsp:ResourceUri><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr` +
    `</rsp:OutputStreams></rsp:Shell>`;
}

/** One stream chunk of a Receive response. */
export interface StreamChunk {
  name: "stdout" | "stderr";
  base64: string;
}

/** Body of a Receive response; `exitCode` set means the command is done. */
export function received(commandId: string, chunks: StreamChunk[], exitCode?: number): string {
  let body = "<rsp:ReceiveResponse>";
  for (const c of chunks) {
    body += `<rsp:Stream Name="${c.name}" CommandId="${commandId}">${c.base64}</rsp:Stream>`;
  }
  if (exitCode === undefined) {
    body += `<rsp:CommandState CommandId="${commandId}" State="${STATE_RUNNING}"/>`;
  } else {
    body += `<rsp:Stream Name="stdout" CommandId="${commandId}" End="true"></rsp:Stream>` +
      `<rsp:Stream Name="stderr" CommandId="${commandId}" End="true"></rsp:Stream>` +
      `<rsp:CommandState CommandId="${commandId}" State="${STATE_DONE}"><rsp:ExitCode>${exitCode}` +
      `</rsp:ExitCode></rsp:CommandState>`;
  }
  return body + "</rsp:ReceiveResponse>";
}
