/**
 * Key pairs, security groups and tags through the real SDK: the key material
 * CreateKeyPair returns is a usable private key, ImportKeyPair reads OpenSSH
 * public keys, security groups carry rules, and tags are filterable.
 */
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  ImportKeyPairCommand,
} from "@aws-sdk/client-ec2";
import { generateKey } from "../support/sshd.ts";
import { withEmulator } from "./helpers.ts";

Deno.test("CreateKeyPair returns real RSA and ED25519 private keys that match the stored public key", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const rsa = await client.send(new CreateKeyPairCommand({ KeyName: "kiln-rsa" }));
    assert.match(rsa.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(rsa.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const rsaPublic = createPublicKey(createPrivateKey(rsa.KeyMaterial!)).export({ format: "jwk" });
    const described = await client.send(
      new DescribeKeyPairsCommand({ KeyNames: ["kiln-rsa"], IncludePublicKey: true }),
    );
    assert.equal(described.KeyPairs![0].KeyType, "rsa");
    assert.equal(described.KeyPairs![0].KeyPairId, rsa.KeyPairId);
    assert.match(described.KeyPairs![0].PublicKey!, /^ssh-rsa /);
    assert.ok(rsaPublic.n, "the private key parses");

    const ed = await client.send(
      new CreateKeyPairCommand({
        KeyName: "kiln-ed",
        KeyType: "ed25519",
        TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "kiln:run", Value: "r1" }] }],
      }),
    );
    assert.match(ed.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
    assert.deepEqual(ed.Tags, [{ Key: "kiln:run", Value: "r1" }]);
    // ssh-keygen -y derives the public key from the private one: it must equal what EC2 stored.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/id`, ed.KeyMaterial!, { mode: 0o600 });
      const derived = await new Deno.Command("ssh-keygen", { args: ["-y", "-f", `${dir}/id`] })
        .output();
      assert.equal(derived.code, 0, new TextDecoder().decode(derived.stderr));
      const stored = await client.send(
        new DescribeKeyPairsCommand({
          Filters: [{ Name: "tag:kiln:run", Values: ["r1"] }],
          IncludePublicKey: true,
        }),
      );
      assert.equal(stored.KeyPairs!.length, 1);
      assert.equal(
        new TextDecoder().decode(derived.stdout).split(" ").slice(0, 2).join(" "),
        stored.KeyPairs![0].PublicKey!.split(" ").slice(0, 2).join(" "),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }

    await assert.rejects(
      client.send(new CreateKeyPairCommand({ KeyName: "kiln-ed" })),
      (e: Error) => e.name === "InvalidKeyPair.Duplicate",
    );
    await client.send(new DeleteKeyPairCommand({ KeyName: "kiln-ed" }));
    await client.send(new DeleteKeyPairCommand({ KeyPairId: rsa.KeyPairId }));
    // Deleting what is already gone succeeds, as on EC2.
    await client.send(new DeleteKeyPairCommand({ KeyName: "kiln-ed" }));
    await assert.rejects(
      client.send(new DescribeKeyPairsCommand({ KeyNames: ["kiln-ed"] })),
      (e: Error) => e.name === "InvalidKeyPair.NotFound",
    );
  });
});

Deno.test("ImportKeyPair accepts an OpenSSH public key and rejects garbage", async () => {
  await withEmulator({}, async (emulator, client) => {
    const dir = await Deno.makeTempDir();
    try {
      const key = await generateKey(dir, "imported", "rsa");
      const imported = await client.send(
        new ImportKeyPairCommand({
          KeyName: "imported",
          PublicKeyMaterial: new TextEncoder().encode(key.publicKey),
        }),
      );
      assert.match(
        imported.KeyFingerprint!,
        /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/,
        "MD5 for imported RSA",
      );
      assert.deepEqual(emulator.ledger().keyPairs.map((k) => k.keyName), ["imported"]);
      await assert.rejects(
        client.send(
          new ImportKeyPairCommand({
            KeyName: "bad",
            PublicKeyMaterial: new TextEncoder().encode("not a key"),
          }),
        ),
        (e: Error) => e.name === "InvalidKey.Format",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("security groups: create, authorize ingress, duplicates refused, describe, delete", async () => {
  await withEmulator({}, async (emulator, client) => {
    const created = await client.send(
      new CreateSecurityGroupCommand({
        GroupName: "kiln-temp",
        Description: "kiln temporary group",
        TagSpecifications: [{
          ResourceType: "security-group",
          Tags: [{ Key: "kiln:build", Value: "b" }],
        }],
      }),
    );
    const groupId = created.GroupId!;
    const rule = {
      GroupId: groupId,
      IpPermissions: [{
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: "0.0.0.0/0" }],
      }],
    };
    const authorized = await client.send(new AuthorizeSecurityGroupIngressCommand(rule));
    assert.equal(authorized.Return, true);
    assert.equal(authorized.SecurityGroupRules![0].CidrIpv4, "0.0.0.0/0");
    await assert.rejects(
      client.send(new AuthorizeSecurityGroupIngressCommand(rule)),
      (e: Error) => e.name === "InvalidPermission.Duplicate",
    );
    await assert.rejects(
      client.send(
        new CreateSecurityGroupCommand({ GroupName: "kiln-temp", Description: "again" }),
      ),
      (e: Error) => e.name === "InvalidGroup.Duplicate",
    );
    const described = await client.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:kiln:build", Values: ["b"] }] }),
    );
    assert.equal(described.SecurityGroups!.length, 1);
    const group = described.SecurityGroups![0];
    assert.equal(group.GroupName, "kiln-temp");
    assert.equal(group.Description, "kiln temporary group");
    assert.equal(group.IpPermissions![0].FromPort, 22);
    assert.equal(group.IpPermissions![0].IpRanges![0].CidrIp, "0.0.0.0/0");
    assert.equal(group.IpPermissionsEgress![0].IpProtocol, "-1");
    assert.deepEqual(emulator.ledger().securityGroups.map((g) => g.groupId), [groupId]);
    await client.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
    await assert.rejects(
      client.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
      (e: Error) => e.name === "InvalidGroup.NotFound",
    );
    assert.deepEqual(emulator.leaks(), []);
  });
});

Deno.test("CreateTags, DescribeTags and DeleteTags on existing resources only", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const group = await client.send(
      new CreateSecurityGroupCommand({ GroupName: "tagged", Description: "d" }),
    );
    await client.send(
      new CreateTagsCommand({
        Resources: [group.GroupId!],
        Tags: [{ Key: "Name", Value: "kiln" }, { Key: "kiln:run", Value: "run-1" }],
      }),
    );
    const tags = await client.send(
      new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [group.GroupId!] }] }),
    );
    assert.deepEqual(
      tags.Tags!.map((t) => [t.Key, t.Value, t.ResourceType]).sort(),
      [["Name", "kiln", "security-group"], ["kiln:run", "run-1", "security-group"]],
    );
    await client.send(
      new DeleteTagsCommand({ Resources: [group.GroupId!], Tags: [{ Key: "Name" }] }),
    );
    const left = await client.send(
      new DescribeTagsCommand({
        Filters: [{ Name: "resource-type", Values: ["security-group"] }, {
          Name: "key",
          Values: ["Name", "kiln:run"],
        }],
      }),
    );
    assert.deepEqual(left.Tags!.map((t) => t.Key), ["kiln:run"]);
    await assert.rejects(
      client.send(
        new CreateTagsCommand({
          Resources: ["i-0123456789abcdef0"],
          Tags: [{ Key: "a", Value: "b" }],
        }),
      ),
      (e: Error) => e.name === "InvalidInstanceID.NotFound",
    );
    await client.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
  });
});
