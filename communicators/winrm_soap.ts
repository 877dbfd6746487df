/**
 * WS-Management / WinRS envelopes as Windows, pywinrm and masterzen/winrm
 * exchange them (MS-WSMV): the request header every operation carries, the
 * bodies of Create, Command, Send, Receive, Signal and Delete, and readers
 * for the answers and for SOAP faults.
 */
import { Buffer } from "node:buffer";
import { findAll, findFirst, parseXml, xmlEscape, type XmlNode } from "./winrm_xml.ts";

/** Namespaces, by the prefixes kiln writes. */
export const NS = {
  env: "http://www.w3.org/2003/05/soap-envelope",
  a: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  w: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  p: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  rsp: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
  x: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  f: "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
} as const;

/** The cmd shell resource every WinRS operation addresses. */
export const SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

/** Action URIs. */
export const ACTION = {
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: `${NS.rsp}/Command`,
  send: `${NS.rsp}/Send`,
  receive: `${NS.rsp}/Receive`,
  signal: `${NS.rsp}/Signal`,
  fault: "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
} as const;

/** Signal codes. */
export const SIGNAL_TERMINATE = `${NS.rsp}/signal/terminate`;
/** CommandState value once the command has exited. */
export const STATE_DONE = `${NS.rsp}/CommandState/Done`;
/** CommandState value while it runs. */
export const STATE_RUNNING = `${NS.rsp}/CommandState/Running`;
/** WSManFault code of a Receive that found no output within OperationTimeout (retry it). */
export const CODE_OPERATION_TIMEOUT = "2150858793";

const ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

const XMLNS = Object.entries(NS).map(([k, v]) => `xmlns:${k}="${v}"`).join(" ");

/** What every request header says. */
export interface HeaderOptions {
  /** The endpoint URL (a:To). */
  to: string;
  action: string;
  /** Largest response the client accepts, in bytes. */
  maxEnvelopeSize: number;
  /** Seconds the server may hold the request (a Receive waits this long for output). */
  operationTimeoutSec: number;
  shellId?: string;
  options?: Record<string, string>;
}

/** A request envelope; `messageId` lets callers match a:RelatesTo. */
export function envelope(
  h: HeaderOptions,
  body: string,
  messageId = `uuid:${crypto.randomUUID().toUpperCase()}`,
): string {
  const selector = h.shellId
    ? `<w:SelectorSet><w:Selector Name="ShellId">${
      xmlEscape(h.shellId)
    }</w:Selector></w:SelectorSet>`
    : "";
  const options = h.options
    ? `<w:OptionSet>${
      Object.entries(h.options)
        .map(([k, v]) => `<w:Option Name="${k}">${xmlEscape(v)}</w:Option>`)
        .join("")
    }</w:OptionSet>`
    : "";
  return `<env:Envelope ${XMLNS}><env:Header>` +
    `<a:To>${xmlEscape(h.to)}</a:To>` +
    `<a:ReplyTo><a:Address mustUnderstand="true">${ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<w:MaxEnvelopeSize mustUnderstand="true">${h.maxEnvelopeSize}</w:MaxEnvelopeSize>` +
    `<a:MessageID>${messageId}</a:MessageID>` +
    `<w:Locale mustUnderstand="false" xml:lang="en-US"/>` +
    `<p:DataLocale mustUnderstand="false" xml:lang="en-US"/>` +
    `<w:OperationTimeout>PT${h.operationTimeoutSec}.000S</w:OperationTimeout>` +
    `<w:ResourceURI mustUnderstand="true">${SHELL_URI}</w:ResourceURI>` +
    `<a:Action mustUnderstand="true">${h.action}</a:Action>` +
    selector + options + `</env:Header><env:Body>${body}</env:Body></env:Envelope>`;
}

/** Body of Create: a cmd shell with stdin and both output streams. */
export function createShellBody(env: Record<string, string> = {}): string {
  const vars = Object.entries(env)
    .map(([k, v]) => `<rsp:Variable Name="${xmlEscape(k)}">${xmlEscape(v)}</rsp:Variable>`)
    .join("");
  return `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>` +
    `<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>` +
    (vars ? `<rsp:Environment>${vars}</rsp:Environment>` : "") + `</rsp:Shell>`;
}

/** Body of Command. */
export function commandBody(commandLine: string): string {
  return `<rsp:CommandLine><rsp:Command>${xmlEscape(commandLine)}</rsp:Command></rsp:CommandLine>`;
}

/** Body of Send: `data` for the command's stdin, `end` closes it. */
export function sendBody(commandId: string, data: Uint8Array | string, end: boolean): string {
  const b64 = typeof data === "string" ? data : base64(data);
  return `<rsp:Send><rsp:Stream Name="stdin" CommandId="${commandId}"${
    end ? ' End="true"' : ""
  }>${b64}</rsp:Stream></rsp:Send>`;
}

/** Body of Receive. */
export function receiveBody(commandId: string): string {
  return `<rsp:Receive><rsp:DesiredStream CommandId="${commandId}">stdout stderr</rsp:DesiredStream></rsp:Receive>`;
}

/** Body of Signal. */
export function signalBody(commandId: string, code = SIGNAL_TERMINATE): string {
  return `<rsp:Signal CommandId="${commandId}"><rsp:Code>${code}</rsp:Code></rsp:Signal>`;
}

/** Base64 of bytes (node:buffer's codec is native, which matters at MiB/s). */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Bytes of a base64 string (whitespace ignored). */
export function unbase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** A SOAP fault, as the server worded it. */
export class WinrmFault extends Error {
  constructor(
    readonly reason: string,
    readonly subcode: string,
    readonly wsmanCode: string,
    readonly httpStatus: number,
  ) {
    super(reason);
    this.name = "WinrmFault";
  }
}

/** The fault in `xml`, if it is one. */
export function readFault(xml: string, httpStatus: number): WinrmFault | undefined {
  let doc: XmlNode;
  try {
    doc = parseXml(xml);
  } catch {
    return undefined;
  }
  const fault = findFirst(doc, "Fault");
  if (!fault) return undefined;
  const code = findFirst(fault, "Code");
  const subcode = code ? findFirst(code, "Subcode") : undefined;
  const subValue = subcode ? findFirst(subcode, "Value")?.text.trim() ?? "" : "";
  const reason = findFirst(fault, "Reason");
  const text = (reason ? findFirst(reason, "Text")?.text : undefined) ??
    findFirst(fault, "Message")?.text ?? "(no reason given)";
  const detail = findFirst(fault, "WSManFault");
  return new WinrmFault(
    text.trim(),
    subValue.replace(/^.*:/, ""),
    detail?.attrs.Code ?? "",
    httpStatus,
  );
}

/** The ShellId of a Create response. */
export function readShellId(doc: XmlNode): string {
  const id = findAll(doc, "Selector").find((s) => s.attrs.Name === "ShellId")?.text ??
    findFirst(doc, "ShellId")?.text;
  if (!id) throw new Error("WinRM Create response carries no ShellId");
  return id.trim();
}

/** The CommandId of a Command response. */
export function readCommandId(doc: XmlNode): string {
  const id = findFirst(doc, "CommandId")?.text;
  if (!id) throw new Error("WinRM Command response carries no CommandId");
  return id.trim();
}

/** What one Receive returned. */
export interface ReceiveResult {
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  /** Set once the command is done. */
  exitCode?: number;
}

/** Reads a ReceiveResponse. */
export function readReceive(doc: XmlNode): ReceiveResult {
  const out: ReceiveResult = { stdout: [], stderr: [] };
  for (const stream of findAll(doc, "Stream")) {
    const text = stream.text.trim();
    if (!text) continue;
    const bytes = unbase64(text);
    if (stream.attrs.Name === "stdout") out.stdout.push(bytes);
    else if (stream.attrs.Name === "stderr") out.stderr.push(bytes);
  }
  const state = findFirst(doc, "CommandState");
  if (state?.attrs.State === STATE_DONE) {
    const code = findFirst(state, "ExitCode")?.text.trim();
    // Windows exit codes are DWORDs; report them as the signed value cmd shows.
    out.exitCode = code ? Number(code) | 0 : 0;
  }
  return out;
}
