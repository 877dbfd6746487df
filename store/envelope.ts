/**
 * Client-side encryption for the store. Each run has its own random key
 * (the seal key, seal.ts): it MACs every record, so whoever can write to
 * the bucket but lacks the key cannot forge or edit the log. The store keeps
 * that key only wrapped by the team key (AES-256-GCM, bound to the run id),
 * and keeps resume secrets encrypted under a key derived from the run key
 * (bound to run and name), so the bucket never holds either in clear.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { StoreConfigError } from "./config.ts";

/** Key material from a team key file. */
export interface TeamKey {
  /** Identifies the key (not secret): a run wrapped with another key says so. */
  id: string;
  bytes: Uint8Array;
}

/** A stored value could not be decrypted (wrong key, or edited). */
export class StoreCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreCryptoError";
  }
}

/**
 * Reads the team key: 32 raw bytes, or 64 hex digits, or base64 of 32
 * bytes. Refuses a file others can read, as ssh refuses a private key.
 */
export function loadTeamKey(path: string): TeamKey {
  let info: Deno.FileInfo;
  let raw: Uint8Array;
  try {
    info = Deno.statSync(path);
    raw = Deno.readFileSync(path);
  } catch (err) {
    throw new StoreConfigError(
      `KILN_STORE_KEY_FILE ${path}: cannot read it (${err instanceof Error ? err.message : err})`,
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new StoreConfigError(
      `KILN_STORE_KEY_FILE ${path}: readable by others (mode ${
        (info.mode & 0o777).toString(8)
      }); it must be private: chmod 600 ${path}`,
    );
  }
  const bytes = decodeKey(raw);
  if (!bytes) {
    throw new StoreConfigError(
      `KILN_STORE_KEY_FILE ${path}: expected 32 random bytes (raw, 64 hex digits or base64); ` +
        `make one with \`head -c 32 /dev/urandom > ${path}\``,
    );
  }
  const id = createHash("sha256").update("kiln-team-key\0").update(bytes).digest("hex").slice(
    0,
    16,
  );
  return { id, bytes };
}

function decodeKey(raw: Uint8Array): Uint8Array | undefined {
  if (raw.length === 32) return raw;
  const text = new TextDecoder().decode(raw).trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    return Uint8Array.from(text.match(/../g)!.map((h) => parseInt(h, 16)));
  }
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

function seal(key: Uint8Array, aad: string, plain: Uint8Array): Uint8Array {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(new TextEncoder().encode(aad));
  const body = new Uint8Array(Buffer.concat([cipher.update(plain), cipher.final()]));
  const out = new Uint8Array(4 + 12 + body.length + 16);
  out.set(new TextEncoder().encode("KLN1"), 0);
  out.set(iv, 4);
  out.set(body, 16);
  out.set(new Uint8Array(cipher.getAuthTag()), 16 + body.length);
  return out;
}

function open(key: Uint8Array, aad: string, box: Uint8Array, what: string): Uint8Array {
  if (box.length < 32 || new TextDecoder().decode(box.subarray(0, 4)) !== "KLN1") {
    throw new StoreCryptoError(`${what} is not a kiln-encrypted value`);
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, box.subarray(4, 16));
    decipher.setAAD(new TextEncoder().encode(aad));
    decipher.setAuthTag(box.subarray(box.length - 16));
    return new Uint8Array(
      Buffer.concat([decipher.update(box.subarray(16, box.length - 16)), decipher.final()]),
    );
  } catch {
    throw new StoreCryptoError(`${what} does not decrypt (another key, or it was edited)`);
  }
}

/** The wrapped form of a run key in `run.json`. */
export interface WrappedKey {
  alg: "A256GCM";
  /** The team key's id. */
  kid: string;
  /** base64 of the sealed box. */
  box: string;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Wraps run `runId`'s key under the team key. */
export function wrapRunKey(team: TeamKey, runId: string, key: Uint8Array): WrappedKey {
  return {
    alg: "A256GCM",
    kid: team.id,
    box: b64(seal(team.bytes, `kiln-run-key\0${runId}`, key)),
  };
}

/** Unwraps run `runId`'s key; throws a clear error for another team's key or an edit. */
export function unwrapRunKey(team: TeamKey, runId: string, wrapped: WrappedKey): Uint8Array {
  if (wrapped?.alg !== "A256GCM" || typeof wrapped.box !== "string") {
    throw new StoreCryptoError(`run ${runId}: run.json holds no key kiln can unwrap`);
  }
  if (wrapped.kid !== team.id) {
    throw new StoreCryptoError(
      `run ${runId} was stored with another team key (id ${wrapped.kid}; KILN_STORE_KEY_FILE ` +
        `has id ${team.id})`,
    );
  }
  const key = open(team.bytes, `kiln-run-key\0${runId}`, unb64(wrapped.box), `run ${runId}'s key`);
  if (key.length !== 32) throw new StoreCryptoError(`run ${runId}: its key is not 32 bytes`);
  return key;
}

/** Encrypts and decrypts one run's secrets under a key derived from its run key. */
export class SecretBox {
  #key: Uint8Array;
  #runId: string;
  constructor(runId: string, runKey: Uint8Array) {
    this.#runId = runId;
    this.#key = new Uint8Array(createHmac("sha256", runKey).update("kiln-store-secrets").digest());
  }
  seal(name: string, plain: Uint8Array): Uint8Array {
    return seal(this.#key, `${this.#runId}/${name}`, plain);
  }
  open(name: string, box: Uint8Array): Uint8Array {
    return open(this.#key, `${this.#runId}/${name}`, box, `secret ${name} of run ${this.#runId}`);
  }
}
