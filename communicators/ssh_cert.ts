/**
 * OpenSSH user certificates for ssh2, which lacks them: the public half sent
 * is the certificate blob (algorithm `*-cert-v01@openssh.com`) while the
 * signature inside the request names the plain algorithm, as OpenSSH
 * requires. ssh2 writes one name in both places, so the signed request is
 * built here and handed to ssh2's packet writer.
 */
import { Buffer } from "node:buffer";
import type { ParsedKey } from "ssh2";
// ssh2 exports no way to send a raw packet; its protocol utilities do.
// deno-lint-ignore no-import-prefix
import protocolUtils from "npm:ssh2@1.17.0/lib/protocol/utils.js";

const CERTIFIED = Symbol("kiln.certificate");

interface Certified {
  [CERTIFIED]: {
    certType: string;
    certBlob: Buffer;
    sigAlgo: string;
    hash?: string;
    base: ParsedKey;
  };
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/**
 * A parsed private key presenting `certificateLine` as its public half. ssh2's
 * publickey "check" request then offers the certificate, and the signed
 * request goes through {@link installCertificateAuth}.
 */
export function certifiedKey(key: ParsedKey, certificateLine: string): ParsedKey {
  const [certType, blob] = certificateLine.trim().split(/\s+/);
  if (!certType?.endsWith("-cert-v01@openssh.com") || !blob) {
    throw new Error("ssh_certificate_file: expected an OpenSSH certificate (*-cert.pub) line");
  }
  const isRsa = certType.startsWith("ssh-rsa-");
  const wrapped = Object.create(key) as ParsedKey & Certified;
  // OpenSSH refuses SHA-1 RSA signatures: an RSA certificate is used as rsa-sha2-256.
  const type = isRsa ? "rsa-sha2-256-cert-v01@openssh.com" : certType;
  Object.defineProperty(wrapped, "type", { value: type });
  const certBlob = Buffer.from(blob, "base64");
  wrapped.getPublicSSH = () => certBlob;
  wrapped[CERTIFIED] = {
    certType: type,
    certBlob,
    sigAlgo: isRsa ? "rsa-sha2-256" : certType.replace("-cert-v01@openssh.com", ""),
    hash: isRsa ? "sha256" : undefined,
    base: key,
  };
  return wrapped;
}

interface Proto {
  _kex: { sessionID: Buffer };
  _authsQueue: string[];
  _packetRW: {
    write: { allocStart: number; alloc(n: number): Buffer; finalize(p: Buffer): Buffer };
  };
  authPK(username: string, key: unknown, keyAlgo?: unknown, cbSign?: unknown): void;
}

/** Teaches a connecting ssh2 client to send certificate-signed requests. */
export function installCertificateAuth(client: unknown): void {
  const proto = (client as { _protocol?: Proto })._protocol;
  if (!proto) return;
  const original = proto.authPK.bind(proto);
  proto.authPK = (username, key, keyAlgo, cbSign) => {
    const cert = (key as Partial<Certified>)?.[CERTIFIED];
    const signing = typeof cbSign === "function" || typeof keyAlgo === "function";
    if (!cert || !signing) return original(username, key, keyAlgo, cbSign);
    const body = Buffer.concat([
      Buffer.from([50]), // SSH_MSG_USERAUTH_REQUEST
      sshString(username),
      sshString("ssh-connection"),
      sshString("publickey"),
      Buffer.from([1]),
      sshString(cert.certType),
      sshString(cert.certBlob),
    ]);
    const signed = Buffer.concat([sshString(proto._kex.sessionID), body]);
    const raw = cert.base.sign(signed, cert.hash as string);
    if (raw instanceof Error) throw raw;
    const baseType = cert.sigAlgo.startsWith("rsa-") ? "ssh-rsa" : cert.sigAlgo;
    const signature = protocolUtils.convertSignature(raw, baseType);
    if (signature === false) throw new Error("cannot encode the certificate signature");
    const message = Buffer.concat([
      body,
      sshString(Buffer.concat([sshString(cert.sigAlgo), sshString(signature)])),
    ]);
    const packet = proto._packetRW.write.alloc(message.length);
    message.copy(packet, proto._packetRW.write.allocStart);
    proto._authsQueue.push("publickey");
    protocolUtils.sendPacket(proto, proto._packetRW.write.finalize(packet));
  };
}
