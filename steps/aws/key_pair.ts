/**
 * The SSH key pair, per the reference's chart: an existing key pair
 * (ssh_keypair_name with ssh_private_key_file or ssh_agent_auth), a private
 * key file alone, a password alone, or — by default — a temporary key pair
 * generated locally and imported. The private key is written to the run's
 * secret store *before* the import, so a crash after the import can still
 * connect on resume.
 */
import type { ResourceHandler, Step } from "../../runtime/types.ts";
import { ec2For, isNotFound } from "./client.ts";
import { kilnTags, resourceName } from "./identity.ts";
import { regionOf } from "./region.ts";

/** Name of the secret holding the temporary private key. */
export const PRIVATE_KEY_SECRET = "ssh_private_key";

/** Which key the instance is launched with. */
export interface KeyPairOutput {
  /** EC2 key pair name ("" = launch without one). */
  keyName: string;
  /** kiln created it and deletes it when the build ends. */
  temporary: boolean;
  /** Public key line of the temporary key (build data `SSHPublicKey`). */
  publicKey?: string;
}

/** Whether the reference's chart calls for a temporary key pair (none of the alternatives is set). */
export function needsTemporaryKey(cfg: Record<string, unknown>): boolean {
  if (cfg.communicator === "none" || cfg.ssh_keypair_name) return false;
  if (cfg.ssh_private_key_file || cfg.ssh_agent_auth) return false;
  return !(cfg.ssh_password && !cfg.temporary_key_pair_name);
}

/** `temporary_key_pair_type` and `_bits` as the key generator takes them. */
export function keySpec(cfg: Record<string, unknown>): [string, number | undefined] {
  const bits = cfg.temporary_key_pair_bits ? Number(cfg.temporary_key_pair_bits) : undefined;
  return [String(cfg.temporary_key_pair_type ?? "rsa"), bits];
}

/** The "key pair" step. */
export function keyPairStep(): Step<KeyPairOutput> {
  return {
    id: "aws.key_pair",
    async run(ctx) {
      const cfg = ctx.config;
      const existing = String(cfg.ssh_keypair_name ?? "");
      if (existing && cfg.communicator !== "none") {
        ctx.ui.say(`Using existing SSH key pair ${existing}`);
        return { keyName: existing, temporary: false };
      }
      if (!needsTemporaryKey(cfg)) return { keyName: "", temporary: false };

      const { temporaryKeyPair } = await import("../../communicators/keys.ts");
      const keyName = String(cfg.temporary_key_pair_name || resourceName(ctx));
      const pair = await temporaryKeyPair(...keySpec(cfg), keyName);
      await ctx.secrets.put(PRIVATE_KEY_SECRET, pair.privateKey);
      await ctx.intent({ kind: "aws.key_pair", token: keyName });
      ctx.ui.say(`Creating temporary keypair: ${keyName}`);
      const { ImportKeyPairCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      await ec2.send(
        new ImportKeyPairCommand({
          KeyName: keyName,
          PublicKeyMaterial: new TextEncoder().encode(pair.publicKey),
          TagSpecifications: [{ ResourceType: "key-pair", Tags: kilnTags(ctx) }],
        }),
        { abortSignal: ctx.signal },
      );
      await ctx.created({
        kind: "aws.key_pair",
        id: keyName,
        region: regionOf(cfg),
        temporary: true,
      });
      return { keyName, temporary: true, publicKey: pair.publicKey };
    },
    async reconcile(ctx, intents) {
      const intent = intents.find((i) => i.kind === "aws.key_pair");
      const privateKey = await ctx.secrets.get(PRIVATE_KEY_SECRET);
      if (!intent || !privateKey) return undefined;
      const { DescribeKeyPairsCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      try {
        const out = await ec2.send(new DescribeKeyPairsCommand({ KeyNames: [intent.token] }));
        if (!out.KeyPairs?.length) return undefined;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      await ctx.created({
        kind: "aws.key_pair",
        id: intent.token,
        region: regionOf(ctx.config),
        temporary: true,
      });
      return { keyName: intent.token, temporary: true };
    },
  };
}

/** Deletes a key pair; an absent one counts as deleted. */
export const keyPairHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { DeleteKeyPairCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = await ec2For(ctx, resource.region);
    ctx.ui.say(`Deleting temporary keypair ${resource.id}...`);
    try {
      await ec2.send(new DeleteKeyPairCommand({ KeyName: resource.id }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};
