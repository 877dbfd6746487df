/**
 * Authentication for one SSH hop: the ordered list of methods ssh2 tries
 * (agent, certificate, public key, password, keyboard-interactive answering
 * with the password), and OpenSSH user certificates, which ssh2 lacks.
 */
import { utils } from "ssh2";
import type { AuthenticationType, ParsedKey } from "ssh2";
import type { SshCredentials } from "./ssh_settings.ts";
import { certifiedKey } from "./ssh_cert.ts";
import { ecdsaSigner } from "./ssh_ecdsa.ts";

/** ssh2's `authHandler` callback signature. */
export type AuthHandler = (
  methodsLeft: AuthenticationType[] | null,
  partialSuccess: boolean | null,
  next: (method: unknown) => void,
) => void;

function parsePrivateKey(text: string, what: string): ParsedKey {
  const parsed = utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) throw new Error(`${what}: not a usable private key (${key.message})`);
  if (!key.isPrivateKey()) throw new Error(`${what}: holds a public key, not a private key`);
  const signer = key.type.startsWith("ecdsa-") ? ecdsaSigner(text, key.type) : undefined;
  if (!signer) return key;
  const fixed = Object.create(key) as ParsedKey;
  fixed.sign = (data: Uint8Array) => signer(data);
  return fixed;
}

/** The methods to offer, in order, for `creds`; empty when nothing is configured. */
export function authMethods(creds: SshCredentials, what: string): Record<string, unknown>[] {
  const username = creds.username;
  const methods: Record<string, unknown>[] = [];
  if (creds.agent) methods.push({ type: "agent", username, agent: creds.agent });
  if (creds.privateKey) {
    const key = parsePrivateKey(creds.privateKey, `${what} private key`);
    if (creds.certificate) {
      methods.push({ type: "publickey", username, key: certifiedKey(key, creds.certificate) });
    }
    methods.push({ type: "publickey", username, key });
  }
  if (creds.password !== undefined) {
    methods.push({ type: "password", username, password: creds.password });
  }
  if (creds.password !== undefined && creds.interactive) {
    const password = creds.password;
    methods.push({
      type: "keyboard-interactive",
      username,
      prompt: (
        _name: string,
        _instructions: string,
        _lang: string,
        prompts: unknown[],
        finish: (answers: string[]) => void,
      ) => finish(prompts.map(() => password)),
    });
  }
  return methods;
}

/** An ssh2 authHandler walking `methods` in order; false once they are used up. */
export function authHandler(methods: Record<string, unknown>[]): AuthHandler {
  let i = 0;
  return (_left, _partial, next) => {
    next(i < methods.length ? methods[i++] : false);
  };
}
