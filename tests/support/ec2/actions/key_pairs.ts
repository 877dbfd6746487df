/** CreateKeyPair, ImportKeyPair, DeleteKeyPair, DescribeKeyPairs. */
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import { generateKey, importPublicKey, type KeyType } from "../keys.ts";
import type { KeyPair } from "../model.ts";
import type { Ec2Emulator } from "../emulator.ts";
import type { QueryParams } from "../query.ts";
import { KINDS, select } from "./lookup.ts";
import type { ActionHandler } from "./types.ts";

function checkName(emu: Ec2Emulator, region: string, keyName: string): void {
  if (keyName.length > 255) {
    throw new Ec2Error("InvalidParameterValue", "Key name must be at most 255 characters");
  }
  for (const k of emu.keyPairs.values()) {
    if (k.region === region && k.keyName === keyName) {
      throw new Ec2Error("InvalidKeyPair.Duplicate", `The keypair '${keyName}' already exists.`);
    }
  }
}

function tagsFor(p: QueryParams, resourceType: string) {
  return p.tagSpecifications().filter((s) => s.resourceType === resourceType).flatMap((s) =>
    s.tags
  );
}

function store(
  emu: Ec2Emulator,
  region: string,
  p: QueryParams,
  fields: Pick<KeyPair, "keyName" | "keyType" | "keyFingerprint" | "publicKey">,
): KeyPair {
  const keyPair: KeyPair = {
    ...fields,
    keyPairId: emu.newId("key"),
    region,
    createTime: new Date(),
  };
  emu.keyPairs.set(keyPair.keyPairId, keyPair);
  emu.applyTags(keyPair.keyPairId, tagsFor(p, "key-pair"));
  emu.created(keyPair.keyPairId);
  return keyPair;
}

/** CreateKeyPair: generates real key material (rsa or ed25519) and returns the private key once. */
export const createKeyPair: ActionHandler = (emu, p, ctx) => {
  const keyName = p.required("KeyName");
  const keyType = (p.optional("KeyType") ?? "rsa") as KeyType;
  if (keyType !== "rsa" && keyType !== "ed25519") {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value (${keyType}) for parameter KeyType is invalid. Valid values: rsa, ed25519`,
    );
  }
  if ((p.get("KeyFormat") ?? "pem") !== "pem") {
    throw new Ec2Error("InvalidParameterValue", "Only KeyFormat pem is supported by the emulator");
  }
  checkName(emu, ctx.region, keyName);
  const key = generateKey(keyType, keyName);
  const keyPair = store(emu, ctx.region, p, {
    keyName,
    keyType,
    keyFingerprint: key.fingerprint,
    publicKey: key.publicKey,
  });
  return {
    keyName,
    keyFingerprint: keyPair.keyFingerprint,
    keyMaterial: key.privateKey,
    keyPairId: keyPair.keyPairId,
    tagSet: emu.tagSet(keyPair.keyPairId),
  };
};

/** ImportKeyPair: stores an OpenSSH public key. */
export const importKeyPair: ActionHandler = (emu, p, ctx) => {
  const keyName = p.required("KeyName");
  const material = p.required("PublicKeyMaterial");
  checkName(emu, ctx.region, keyName);
  const imported = importPublicKey(material);
  const keyPair = store(emu, ctx.region, p, {
    keyName,
    keyType: imported.keyType,
    keyFingerprint: imported.fingerprint,
    publicKey: imported.publicKey,
  });
  return {
    keyFingerprint: keyPair.keyFingerprint,
    keyName,
    keyPairId: keyPair.keyPairId,
    tagSet: emu.tagSet(keyPair.keyPairId),
  };
};

/** DeleteKeyPair: by name or id; like EC2, deleting a missing key pair succeeds. */
export const deleteKeyPair: ActionHandler = (emu, p, ctx) => {
  const keyName = p.optional("KeyName");
  const keyPairId = p.optional("KeyPairId");
  if (!keyName && !keyPairId) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter KeyName or KeyPairId",
    );
  }
  let deletedId: string | undefined;
  for (const [id, k] of emu.keyPairs) {
    if (k.region !== ctx.region) continue;
    if ((keyPairId && id === keyPairId) || (!keyPairId && k.keyName === keyName)) {
      emu.keyPairs.delete(id);
      emu.tags.delete(id);
      deletedId = id;
    }
  }
  return { return: true, keyPairId: deletedId };
};

/** DescribeKeyPairs by name, id and filters. */
export const describeKeyPairs: ActionHandler = (emu, p, ctx) => {
  const names = p.list("KeyName");
  let keys = select(emu, KINDS.keyPair, emu.keyPairs, p.list("KeyPairId"), ctx.region);
  if (names.length > 0) {
    const missing = names.filter((n) => !keys.some((k) => k.keyName === n));
    if (missing.length > 0) {
      throw new Ec2Error(
        "InvalidKeyPair.NotFound",
        `The key pair '${missing.join(", ")}' does not exist`,
      );
    }
    keys = keys.filter((k) => names.includes(k.keyName));
  }
  keys = applyFilters(keys, p.filters(), (k, name) => {
    switch (name) {
      case "key-name":
        return [k.keyName];
      case "key-pair-id":
        return [k.keyPairId];
      case "fingerprint":
        return [k.keyFingerprint];
      case "key-type":
        return [k.keyType];
    }
  }, (k) => emu.tagsOf(k.keyPairId));
  const includePublicKey = p.bool("IncludePublicKey") ?? false;
  return {
    keySet: keys.map((k) => ({
      keyPairId: k.keyPairId,
      keyName: k.keyName,
      keyFingerprint: k.keyFingerprint,
      keyType: k.keyType,
      publicKey: includePublicKey ? k.publicKey : undefined,
      createTime: k.createTime,
      tagSet: emu.tagSet(k.keyPairId),
    })),
  };
};
