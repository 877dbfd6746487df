/**
 * Temporary key pairs for builders that create one per build
 * (`temporary_key_pair_type` / `temporary_key_pair_bits`): the public key as
 * an OpenSSH `authorized_keys` line and the private key in a format both
 * OpenSSH and ssh2 read (PEM for rsa, OpenSSH format for ecdsa and ed25519).
 */
import { Buffer } from "node:buffer";
import { generateKeyPair, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";

/** A generated key pair. */
export interface TemporaryKeyPair {
  type: "rsa" | "ecdsa" | "ed25519";
  bits: number;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** PEM or OpenSSH private key text; a secret. */
  privateKey: string;
}

const CURVES: Record<number, { node: string; ssh: string }> = {
  256: { node: "prime256v1", ssh: "nistp256" },
  384: { node: "secp384r1", ssh: "nistp384" },
  521: { node: "secp521r1", ssh: "nistp521" },
};

function sshString(data: Uint8Array | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** SSH mpint: big-endian, a leading zero when the top bit is set. */
function sshMpint(data: Uint8Array): Buffer {
  let start = 0;
  while (start < data.length - 1 && data[start] === 0) start++;
  let body = Buffer.from(data.subarray(start));
  if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return sshString(body);
}

function b64url(text: string): Buffer {
  return Buffer.from(text, "base64url");
}

function publicBlob(type: TemporaryKeyPair["type"], key: KeyObject, bits: number): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (type === "rsa") {
    return Buffer.concat([
      sshString("ssh-rsa"),
      sshMpint(b64url(jwk.e!)),
      sshMpint(b64url(jwk.n!)),
    ]);
  }
  if (type === "ecdsa") {
    const curve = CURVES[bits].ssh;
    const point = Buffer.concat([Buffer.from([4]), b64url(jwk.x!), b64url(jwk.y!)]);
    return Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]);
  }
  return Buffer.concat([sshString("ssh-ed25519"), sshString(b64url(jwk.x!))]);
}

/**
 * OpenSSH's unencrypted "openssh-key-v1" container. Used for ecdsa and
 * ed25519 because ssh2 on Deno cannot load every curve from SEC1 PEM.
 */
function opensshPrivateKey(pubBlob: Buffer, privateFields: Buffer[], comment: string): string {
  const check = randomBytes(4);
  let inner = Buffer.concat([check, check, ...privateFields, sshString(comment)]);
  for (let i = 1; inner.length % 8 !== 0; i++) inner = Buffer.concat([inner, Buffer.from([i])]);
  const whole = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(pubBlob),
    sshString(inner),
  ]);
  const lines = whole.toString("base64").match(/.{1,70}/g)!.join("\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

type KeyObjects = { publicKey: KeyObject; privateKey: KeyObject };

/** A validated key request: what to ask node:crypto for. */
interface KeySpec {
  type: TemporaryKeyPair["type"];
  bits: number;
  algorithm: "rsa" | "ec" | "ed25519";
  options: Record<string, unknown>;
}

function keySpec(type: string, bits?: number): KeySpec {
  if (type === "dsa") throw new Error("dsa keys are insecure and refused; use ed25519 or rsa");
  if (type === "rsa") {
    const size = bits ?? 4096;
    if (!Number.isInteger(size) || size < 1024) {
      throw new Error(`rsa keys must be at least 1024 bits, got ${size}`);
    }
    return { type, bits: size, algorithm: "rsa", options: { modulusLength: size } };
  }
  if (type === "ecdsa") {
    const size = bits ?? 521;
    if (!CURVES[size]) throw new Error(`ecdsa keys must be 256, 384 or 521 bits, got ${size}`);
    return { type, bits: size, algorithm: "ec", options: { namedCurve: CURVES[size].node } };
  }
  if (type === "ed25519") return { type, bits: 256, algorithm: "ed25519", options: {} };
  throw new Error(`temporary_key_pair_type must be rsa, ecdsa or ed25519, got "${type}"`);
}

function formatKeyPair(spec: KeySpec, keys: KeyObjects, comment: string): TemporaryKeyPair {
  const { type, bits } = spec;
  const blob = publicBlob(type, keys.publicKey, bits);
  if (type === "rsa") {
    return {
      type,
      bits,
      publicKey: `ssh-rsa ${blob.toString("base64")} ${comment}`,
      privateKey: keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    };
  }
  const jwk = keys.privateKey.export({ format: "jwk" });
  if (type === "ecdsa") {
    const curve = CURVES[bits].ssh;
    return {
      type,
      bits,
      publicKey: `ecdsa-sha2-${curve} ${blob.toString("base64")} ${comment}`,
      privateKey: opensshPrivateKey(blob, [
        sshString(`ecdsa-sha2-${curve}`),
        sshString(curve),
        sshString(Buffer.concat([Buffer.from([4]), b64url(jwk.x!), b64url(jwk.y!)])),
        sshMpint(b64url(jwk.d!)),
      ], comment),
    };
  }
  const pub = b64url(jwk.x!);
  return {
    type,
    bits,
    publicKey: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
    privateKey: opensshPrivateKey(blob, [
      sshString("ssh-ed25519"),
      sshString(pub),
      sshString(Buffer.concat([b64url(jwk.d!), pub])),
    ], comment),
  };
}

/**
 * Generates a key pair like Packer's temporary key pair: rsa (default 4096
 * bits), ecdsa (256/384/521) or ed25519. DSA is refused as insecure.
 *
 * @example
 * ```ts
 * const pair = generateTemporaryKeyPair("ed25519", undefined, "kiln");
 * pair.publicKey.startsWith("ssh-ed25519 "); // true
 * ```
 */
export function generateTemporaryKeyPair(
  type = "rsa",
  bits?: number,
  comment = "kiln-temporary-key",
): TemporaryKeyPair {
  const spec = keySpec(type, bits);
  // deno-lint-ignore no-explicit-any
  const keys = generateKeyPairSync(spec.algorithm as any, spec.options) as unknown as KeyObjects;
  return formatKeyPair(spec, keys, comment);
}

/** Key generations started ahead of need, by "type/bits". */
const started = new Map<string, Promise<KeyObjects>>();

function generateAsync(spec: KeySpec): Promise<KeyObjects> {
  return new Promise((resolve, reject) =>
    // deno-lint-ignore no-explicit-any
    (generateKeyPair as any)(
      spec.algorithm,
      spec.options,
      (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
        err ? reject(err) : resolve({ publicKey, privateKey }),
    )
  );
}

/**
 * Starts generating a temporary key pair on a worker thread, so a 4096-bit
 * RSA key (half a second or more) is ready by the time the build reaches the
 * step that imports it; that step's `temporaryKeyPair` call picks it up.
 * Invalid requests are ignored here: the step reports them.
 */
export function prefetchTemporaryKeyPair(type = "rsa", bits?: number): void {
  let spec: KeySpec;
  try {
    spec = keySpec(type, bits);
  } catch {
    return;
  }
  const key = `${spec.type}/${spec.bits}`;
  if (started.has(key)) return;
  const pending = generateAsync(spec);
  pending.catch(() => started.delete(key));
  started.set(key, pending);
}

/**
 * Like `generateTemporaryKeyPair`, but off the main thread, using a
 * generation `prefetchTemporaryKeyPair` already started when there is one.
 * Each prefetched pair is handed out once.
 */
export async function temporaryKeyPair(
  type = "rsa",
  bits?: number,
  comment = "kiln-temporary-key",
): Promise<TemporaryKeyPair> {
  const spec = keySpec(type, bits);
  const key = `${spec.type}/${spec.bits}`;
  const pending = started.get(key) ?? generateAsync(spec);
  started.delete(key);
  return formatKeyPair(spec, await pending, comment);
}
