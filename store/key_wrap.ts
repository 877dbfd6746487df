/**
 * Who wraps a run's key for the store: KMS (when KILN_STORE_KMS_KEY_ID is
 * set) or the team key file. A run is unwrapped by whichever wrapped it, as
 * its `run.json` says, so a team can move from a key file to KMS without
 * losing its older runs (readers then need both).
 */
import type { StoreConfig } from "./config.ts";
import { StoreConfigError } from "./config.ts";
import {
  loadTeamKey,
  StoreCryptoError,
  type TeamKey,
  unwrapRunKey,
  type WrappedKey,
  wrapRunKey,
} from "./envelope.ts";

/** A run key wrapped by KMS. */
export interface KmsWrappedKey {
  alg: "KMS";
  keyId: string;
  /** base64 of KMS's ciphertext blob. */
  blob: string;
}

/** Either form `run.json` holds. */
export type StoredKey = WrappedKey | KmsWrappedKey;

/** Wraps and unwraps run keys. */
export interface KeyWrapper {
  wrap(runId: string, key: Uint8Array): Promise<StoredKey>;
  unwrap(runId: string, stored: StoredKey): Promise<Uint8Array>;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The key wrapper the configuration describes. */
export function keyWrapper(config: StoreConfig): KeyWrapper {
  let team: TeamKey | undefined;
  const teamKey = () => {
    if (!config.keyFile) {
      throw new StoreConfigError(
        `this run's key was wrapped with a team key file: set KILN_STORE_KEY_FILE to read it`,
      );
    }
    return team ??= loadTeamKey(config.keyFile);
  };
  // The KMS SDK loads only for a run that uses KMS: the store's thread starts without it.
  let kms: Promise<typeof import("@aws-sdk/client-kms")> | undefined;
  let client: import("@aws-sdk/client-kms").KMSClient | undefined;
  const kmsSdk = () => kms ??= import("@aws-sdk/client-kms");
  const kmsClient = async () => {
    const { KMSClient } = await kmsSdk();
    return client ??= new KMSClient({
      region: config.region,
      endpoint: config.kmsEndpoint,
      maxAttempts: 3,
    });
  };
  // The run id binds the wrapped key to its run (KMS checks the context on Decrypt).
  const context = (runId: string) => ({ "kiln:run-id": runId });
  return {
    async wrap(runId, key) {
      if (!config.kmsKeyId) return wrapRunKey(teamKey(), runId, key);
      let out;
      try {
        const { EncryptCommand } = await kmsSdk();
        out = await (await kmsClient()).send(
          new EncryptCommand({
            KeyId: config.kmsKeyId,
            Plaintext: key,
            EncryptionContext: context(runId),
          }),
        );
      } catch (err) {
        throw new StoreCryptoError(
          `KMS would not wrap run ${runId}'s key with ${config.kmsKeyId} (${
            (err as { name?: string })?.name ?? "error"
          }: ${err instanceof Error ? err.message : String(err)})`,
        );
      }
      return { alg: "KMS", keyId: out.KeyId ?? config.kmsKeyId, blob: b64(out.CiphertextBlob!) };
    },
    async unwrap(runId, stored) {
      if (stored?.alg !== "KMS") return unwrapRunKey(teamKey(), runId, stored as WrappedKey);
      let out;
      try {
        const { DecryptCommand } = await kmsSdk();
        out = await (await kmsClient()).send(
          new DecryptCommand({
            CiphertextBlob: unb64(stored.blob),
            EncryptionContext: context(runId),
          }),
        );
      } catch (err) {
        const name = (err as { name?: string })?.name ?? "error";
        throw new StoreCryptoError(
          `run ${runId}: KMS would not unwrap its key (${name}: ${
            err instanceof Error ? err.message : String(err)
          }; key ${stored.keyId})`,
        );
      }
      const key = out.Plaintext;
      if (!key || key.length !== 32) {
        throw new StoreCryptoError(`run ${runId}: KMS returned a key that is not 32 bytes`);
      }
      return new Uint8Array(key);
    },
  };
}
