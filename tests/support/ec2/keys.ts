/**
 * Key material for CreateKeyPair/ImportKeyPair, generated with node:crypto the
 * way EC2 hands it out: RSA as a PKCS#1 PEM, ED25519 in the OpenSSH private key
 * format, public keys in OpenSSH one-line form, fingerprints as EC2 computes
 * them (SHA-1 of the PKCS#8 DER for created RSA keys, MD5 of the public DER for
 * imported RSA keys, base64 SHA-256 for ED25519).
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { Ec2Error } from "./errors.ts";

/** The key types EC2 accepts. */
export type KeyType = "rsa" | "ed25519";

/** A key pair as CreateKeyPair returns it. */
export interface GeneratedKey {
  keyType: KeyType;
  /** OpenSSH one-line public key (`ssh-rsa AAAA... name`). */
  publicKey: string;
  /** The private key EC2 returns once in `keyMaterial`. */
  privateKey: string;
  fingerprint: string;
}

function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function sshMpint(unsigned: Buffer): Buffer {
  let bytes = unsigned;
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

function colonHex(digest: Buffer): string {
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function rsaPublicBlob(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  return Buffer.concat([
    sshString("ssh-rsa"),
    sshMpint(Buffer.from(jwk.e!, "base64url")),
    sshMpint(Buffer.from(jwk.n!, "base64url")),
  ]);
}

function ed25519PublicBlob(publicRaw: Buffer): Buffer {
  return Buffer.concat([sshString("ssh-ed25519"), sshString(publicRaw)]);
}

/** The OpenSSH private key container ("openssh-key-v1"), unencrypted, for one ED25519 key. */
function openSshEd25519Private(seed: Buffer, publicRaw: Buffer, comment: string): string {
  const publicBlob = ed25519PublicBlob(publicRaw);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(publicRaw),
    sshString(Buffer.concat([seed, publicRaw])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (secret.length + pad.length) % 8 !== 0; i++) pad.push(i);
  secret = Buffer.concat([secret, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    nkeys,
    sshString(publicBlob),
    sshString(secret),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g)!.join("\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Generates a key pair for CreateKeyPair. */
export function generateKey(keyType: KeyType, keyName: string): GeneratedKey {
  if (keyType === "rsa") {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" }) as Buffer;
    return {
      keyType,
      publicKey: `ssh-rsa ${rsaPublicBlob(publicKey).toString("base64")} ${keyName}`,
      privateKey: privateKey.export({ format: "pem", type: "pkcs1" }) as string,
      fingerprint: colonHex(createHash("sha1").update(pkcs8).digest()),
    };
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const publicRaw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const blob = ed25519PublicBlob(publicRaw);
  return {
    keyType,
    publicKey: `ssh-ed25519 ${blob.toString("base64")} ${keyName}`,
    privateKey: openSshEd25519Private(seed, publicRaw, keyName),
    fingerprint: createHash("sha256").update(blob).digest("base64"),
  };
}

/** Reads the modulus/exponent out of an `ssh-rsa` blob to recompute EC2's MD5 fingerprint. */
function rsaKeyFromBlob(blob: Buffer): KeyObject {
  let offset = 0;
  const next = () => {
    const len = blob.readUInt32BE(offset);
    const value = blob.subarray(offset + 4, offset + 4 + len);
    offset += 4 + len;
    return value;
  };
  next(); // key type
  const e = next();
  const n = next();
  const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
  return createPublicKey({
    key: { kty: "RSA", e: strip(e).toString("base64url"), n: strip(n).toString("base64url") },
    format: "jwk",
  });
}

/**
 * Parses ImportKeyPair's `PublicKeyMaterial` (base64 of an OpenSSH public key
 * line) into the stored public key and EC2's fingerprint.
 */
export function importPublicKey(
  materialBase64: string,
): { keyType: KeyType; publicKey: string; fingerprint: string } {
  const text = Buffer.from(materialBase64, "base64").toString("utf8").trim();
  const [type, data] = text.split(/\s+/);
  if ((type !== "ssh-rsa" && type !== "ssh-ed25519") || !data) {
    throw new Ec2Error(
      "InvalidKey.Format",
      "Key is not in valid OpenSSH public key format",
    );
  }
  const blob = Buffer.from(data, "base64");
  if (type === "ssh-ed25519") {
    return {
      keyType: "ed25519",
      publicKey: `${type} ${data}`,
      fingerprint: createHash("sha256").update(blob).digest("base64"),
    };
  }
  let der: Buffer;
  try {
    der = rsaKeyFromBlob(blob).export({ format: "der", type: "spki" }) as Buffer;
  } catch {
    throw new Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
  }
  return {
    keyType: "rsa",
    publicKey: `${type} ${data}`,
    fingerprint: colonHex(createHash("md5").update(der).digest()),
  };
}
