/**
 * A KMS endpoint on 127.0.0.1 for the store's key wrapping: CreateKey,
 * Encrypt, Decrypt, DescribeKey and DisableKey over KMS's JSON protocol
 * (`X-Amz-Target: TrentService.*`), with KMS's error shapes. A ciphertext
 * names its key and is bound to the encryption context, as KMS's are:
 * decrypting with another context fails with InvalidCiphertextException.
 * Signatures are not checked.
 *
 * ```ts
 * const kms = await startKmsEmulator();
 * const keyId = kms.createKey();
 * // KILN_STORE_KMS_KEY_ID=keyId KILN_STORE_KMS_ENDPOINT=kms.endpoint
 * await kms.close();
 * ```
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { Buffer } from "node:buffer";

/** A running KMS emulator. */
export interface KmsEmulator {
  endpoint: string;
  /** Creates a key; returns its ARN. */
  createKey(): string;
  /** Disables a key: Encrypt and Decrypt with it fail (DisabledException). */
  disableKey(keyId: string): void;
  /** Requests by operation. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

interface Key {
  arn: string;
  material: Uint8Array;
  enabled: boolean;
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

class KmsError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

function canonicalContext(context: unknown): string {
  if (context === undefined || context === null) return "{}";
  if (typeof context !== "object") throw new KmsError("ValidationException", "bad context");
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return JSON.stringify(entries);
}

/** Starts a KMS emulator; `close()` it in a `finally`. */
export function startKmsEmulator(): Promise<KmsEmulator> {
  const keys = new Map<string, Key>();
  const calls = new Map<string, number>();
  const find = (id: unknown): Key => {
    const text = String(id ?? "");
    const key = keys.get(text) ?? [...keys.values()].find((k) => k.arn.endsWith(`/${text}`));
    if (!key) throw new KmsError("NotFoundException", `Key '${text}' does not exist`);
    if (!key.enabled) throw new KmsError("DisabledException", `${key.arn} is disabled.`);
    return key;
  };
  const createKey = () => {
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${crypto.randomUUID()}`;
    keys.set(arn, { arn, material: crypto.getRandomValues(new Uint8Array(32)), enabled: true });
    return arn;
  };
  const ops: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateKey: () => ({ KeyMetadata: { Arn: createKey(), KeyState: "Enabled" } }),
    DescribeKey: (b) => {
      const k = find(b.KeyId);
      return { KeyMetadata: { Arn: k.arn, KeyId: k.arn.split("/")[1], KeyState: "Enabled" } };
    },
    Encrypt: (b) => {
      const k = find(b.KeyId);
      const plain = Buffer.from(String(b.Plaintext ?? ""), "base64");
      if (plain.length === 0 || plain.length > 4096) {
        throw new KmsError("ValidationException", "Plaintext must be 1 to 4096 bytes");
      }
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const cipher = createCipheriv("aes-256-gcm", k.material, iv);
      cipher.setAAD(Buffer.from(canonicalContext(b.EncryptionContext)));
      const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      const blob = Buffer.concat([Buffer.from(`${k.arn}\n`), iv, body]);
      return {
        CiphertextBlob: blob.toString("base64"),
        KeyId: k.arn,
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    },
    Decrypt: (b) => {
      const blob = Buffer.from(String(b.CiphertextBlob ?? ""), "base64");
      const nl = blob.indexOf(10);
      const invalid = new KmsError("InvalidCiphertextException", "");
      if (nl < 0 || blob.length < nl + 1 + 12 + 16) throw invalid;
      const k = find(blob.subarray(0, nl).toString());
      if (b.KeyId !== undefined && find(b.KeyId) !== k) {
        throw new KmsError("IncorrectKeyException", "The key ID in the request does not match");
      }
      const iv = blob.subarray(nl + 1, nl + 13);
      const body = blob.subarray(nl + 13, blob.length - 16);
      try {
        const decipher = createDecipheriv("aes-256-gcm", k.material, iv);
        decipher.setAAD(Buffer.from(canonicalContext(b.EncryptionContext)));
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const plain = Buffer.concat([decipher.update(body), decipher.final()]);
        return {
          Plaintext: plain.toString("base64"),
          KeyId: k.arn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
      } catch {
        throw invalid;
      }
    },
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const target = req.headers.get("x-amz-target") ?? "";
    const op = target.replace(/^TrentService\./, "");
    calls.set(op, (calls.get(op) ?? 0) + 1);
    const headers = { "content-type": "application/x-amz-json-1.1" };
    try {
      const handler = ops[op];
      if (!handler) throw new KmsError("UnknownOperationException", `unknown ${target}`);
      const body = JSON.parse((await req.text()) || "{}");
      return new Response(JSON.stringify(handler(body)), { headers });
    } catch (err) {
      const e = err instanceof KmsError
        ? err
        : new KmsError("KMSInternalException", String(err), 500);
      return new Response(JSON.stringify({ __type: e.type, message: e.message }), {
        status: e.status,
        headers,
      });
    }
  });
  const addr = server.addr as Deno.NetAddr;
  return Promise.resolve({
    endpoint: `http://127.0.0.1:${addr.port}`,
    createKey,
    disableKey: (id: string) => {
      const k = keys.get(id);
      if (k) k.enabled = false;
    },
    calls,
    close: () => server.shutdown(),
  });
}
