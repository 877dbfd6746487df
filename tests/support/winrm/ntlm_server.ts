/**
 * The server half of NTLM for the test listener: a CHALLENGE message with
 * target info (so clients answer with NTLMv2, as they do against Windows)
 * and verification of the AUTHENTICATE message's NTLMv2 proof against the
 * configured password — a client that does not know the password fails.
 * NTLMv1 answers are refused, as a hardened Windows does.
 */
import { Buffer } from "node:buffer";
import { createHmac, randomBytes } from "node:crypto";
import { ntHash } from "../../../communicators/winrm_ntlm.ts";

const F_UNICODE = 0x1;
const FLAGS = F_UNICODE | 0x4 /* request target */ | 0x200 /* NTLM */ | 0x8000 /* always sign */ |
  0x20000 /* target type server */ | 0x80000 /* extended session security */ |
  0x800000 /* target info */ | 0x2000000 /* version */ | 0x20000000 | 0x80000000;

const utf16 = (s: string) => Buffer.from(s, "utf16le");

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

function fileTime(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(Date.now()) + 11644473600000n) * 10000n);
  return b;
}

/** The message type (1, 2 or 3) of a base64 NTLMSSP token, or 0. */
export function messageType(token: string): number {
  const buf = Buffer.from(token, "base64");
  if (buf.length < 12 || buf.subarray(0, 8).toString("latin1") !== "NTLMSSP\0") return 0;
  return buf.readUInt32LE(8);
}

/** A CHALLENGE message (base64) and the server challenge it carries. */
export function challengeMessage(): { token: string; challenge: Buffer } {
  const challenge = randomBytes(8);
  const target = utf16("KILN");
  const info = Buffer.concat([
    avPair(2, utf16("KILN")),
    avPair(1, utf16("KILN-WINRM")),
    avPair(4, utf16("kiln.test")),
    avPair(3, utf16("kiln-winrm.kiln.test")),
    avPair(7, fileTime()),
    avPair(0, Buffer.alloc(0)),
  ]);
  const head = Buffer.alloc(56);
  head.write("NTLMSSP\0", 0, "latin1");
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(target.length, 12);
  head.writeUInt16LE(target.length, 14);
  head.writeUInt32LE(56, 16);
  head.writeUInt32LE(FLAGS >>> 0, 20);
  challenge.copy(head, 24);
  head.writeUInt16LE(info.length, 40);
  head.writeUInt16LE(info.length, 42);
  head.writeUInt32LE(56 + target.length, 44);
  Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]).copy(head, 48); // version 10.0.19041, NTLM rev 15
  return { token: Buffer.concat([head, target, info]).toString("base64"), challenge };
}

function field(buf: Buffer, at: number): Buffer {
  const len = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (offset + len > buf.length) throw new Error("field outside the message");
  return buf.subarray(offset, offset + len);
}

/** What an AUTHENTICATE message proved. */
export interface NtlmVerdict {
  ok: boolean;
  user: string;
  domain: string;
  why?: string;
}

/** Checks an AUTHENTICATE message (base64) against `challenge` and the expected credentials. */
export function verifyAuthenticate(
  token: string,
  challenge: Buffer,
  expectedUser: string,
  password: string,
): NtlmVerdict {
  const buf = Buffer.from(token, "base64");
  if (messageType(token) !== 3 || buf.length < 64) {
    return { ok: false, user: "", domain: "", why: "not an AUTHENTICATE message" };
  }
  const flags = buf.readUInt32LE(60);
  const text = (b: Buffer) => b.toString(flags & F_UNICODE ? "utf16le" : "latin1");
  const nt = field(buf, 20);
  const domain = text(field(buf, 28));
  const user = text(field(buf, 36));
  const expected = expectedUser.includes("\\")
    ? expectedUser.slice(expectedUser.indexOf("\\") + 1)
    : expectedUser;
  if (user.toLowerCase() !== expected.toLowerCase()) {
    return { ok: false, user, domain, why: `unknown user "${user}"` };
  }
  if (nt.length <= 24) return { ok: false, user, domain, why: "NTLMv1 response refused" };
  const key = createHmac("md5", ntHash(password)).update(utf16(user.toUpperCase() + domain))
    .digest();
  const proof = nt.subarray(0, 16);
  const blob = nt.subarray(16);
  const want = createHmac("md5", key).update(Buffer.concat([challenge, blob])).digest();
  if (!want.equals(proof)) return { ok: false, user, domain, why: "NTLMv2 proof mismatch" };
  return { ok: true, user, domain };
}
