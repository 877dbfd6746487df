/**
 * ECDSA signing that works on Deno. ssh2 signs ECDSA keys through a SEC1 PEM
 * it builds itself, which Deno's node:crypto rejects whenever the private
 * scalar carries an mpint sign byte (about half of all OpenSSH-format keys),
 * and it does not name the hash. Here the key is loaded from the OpenSSH
 * container (or PEM) into a KeyObject and signed with the curve's hash.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, type KeyObject, sign } from "node:crypto";

const CURVES: Record<string, { crv: string; hash: string; size: number }> = {
  nistp256: { crv: "P-256", hash: "sha256", size: 32 },
  nistp384: { crv: "P-384", hash: "sha384", size: 48 },
  nistp521: { crv: "P-521", hash: "sha512", size: 66 },
};

class Cursor {
  #pos = 0;
  constructor(private buf: Buffer) {}
  bytes(): Buffer {
    const len = this.buf.readUInt32BE(this.#pos);
    const out = this.buf.subarray(this.#pos + 4, this.#pos + 4 + len);
    this.#pos += 4 + len;
    return out;
  }
  skip(n: number): void {
    this.#pos += n;
  }
}

function fixed(data: Buffer, size: number): Buffer {
  const trimmed = data.subarray(Math.max(0, data.length - size));
  return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
}

function fromOpenSsh(text: string): { key: KeyObject; hash: string } | undefined {
  const body = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const raw = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (raw.subarray(0, magic.length).toString("latin1") !== magic) return undefined;
  const c = new Cursor(raw.subarray(magic.length));
  if (c.bytes().toString() !== "none") return undefined; // encrypted: leave it to ssh2
  c.bytes(); // kdf name
  c.bytes(); // kdf options
  c.skip(4); // number of keys
  c.bytes(); // public key
  const priv = new Cursor(c.bytes());
  priv.skip(8); // check ints
  const type = priv.bytes().toString();
  if (!type.startsWith("ecdsa-sha2-")) return undefined;
  const curve = CURVES[priv.bytes().toString()];
  if (!curve) return undefined;
  const q = priv.bytes();
  const d = priv.bytes();
  const x = q.subarray(1, 1 + curve.size);
  const y = q.subarray(1 + curve.size);
  const key = createPrivateKey({
    key: {
      kty: "EC",
      crv: curve.crv,
      x: x.toString("base64url"),
      y: y.toString("base64url"),
      d: fixed(d, curve.size).toString("base64url"),
    },
    format: "jwk",
  });
  return { key, hash: curve.hash };
}

/**
 * A DER-signature function for an ECDSA private key text, or undefined when
 * the text is not an (unencrypted) ECDSA key this can load.
 */
export function ecdsaSigner(
  text: string,
  sshType: string,
): ((data: Uint8Array) => Buffer) | undefined {
  const curve = CURVES[sshType.replace("ecdsa-sha2-", "")];
  if (!curve) return undefined;
  let loaded: { key: KeyObject; hash: string } | undefined;
  try {
    loaded = text.includes("OPENSSH PRIVATE KEY")
      ? fromOpenSsh(text)
      : { key: createPrivateKey(text), hash: curve.hash };
  } catch {
    return undefined;
  }
  if (!loaded) return undefined;
  const { key, hash } = loaded;
  return (data) => sign(hash, data, key);
}
