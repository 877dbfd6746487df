/**
 * The instance-store path end to end: on a launched instance, Packer's default
 * bundle commands (`sudo -i -n ec2-bundle-vol ...`, `sudo -i -n
 * ec2-upload-bundle ...`) run over SSH against the stand-in tools, the bundle
 * lands in the S3 emulator, and RegisterImage accepts its manifest — and
 * refuses a missing or corrupt one. Then the image attribute calls, CopyImage
 * and DeregisterImage on the registered AMI.
 */
import assert from "node:assert/strict";
import {
  CopyImageCommand,
  CreateKeyPairCommand,
  DeleteKeyPairCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { gunzipSync } from "node:zlib";
import { ec2Client, ssh, waitFor, withEmulator, writeX509Placeholders } from "./helpers.ts";
import { type Ec2EmulatorHandle, INSTANCE_VISIBLE_DIR } from "../support/ec2/mod.ts";

interface Booted {
  instanceId: string;
  host: string;
  port: number;
  keyPath: string;
}

async function bootInstance(
  emulator: Ec2EmulatorHandle,
  client: EC2Client,
  dir: string,
): Promise<Booted> {
  const key = await client.send(new CreateKeyPairCommand({ KeyName: "bundler" }));
  const keyPath = `${dir}/bundler.pem`;
  await Deno.writeTextFile(keyPath, key.KeyMaterial!, { mode: 0o600 });
  const images = await client.send(
    new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-minimal-pv-*"] }] }),
  );
  const run = await client.send(
    new RunInstancesCommand({
      ImageId: images.Images![0].ImageId,
      MinCount: 1,
      MaxCount: 1,
      KeyName: "bundler",
    }),
  );
  const instanceId = run.Instances![0].InstanceId!;
  const publicIp = await waitFor("running", async () => {
    const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations![0].Instances![0];
    return instance.State!.Name === "running" ? instance.PublicIpAddress : undefined;
  });
  const { host, port } = emulator.hostFor(publicIp)!;
  return { instanceId, host, port, keyPath };
}

async function shutdown(client: EC2Client, booted: Booted): Promise<void> {
  await client.send(new TerminateInstancesCommand({ InstanceIds: [booted.instanceId] }));
  await client.send(new DeleteKeyPairCommand({ KeyName: "bundler" }));
}

/** Lists the tar inside the gzipped bundle parts. */
function tarNames(archive: Uint8Array): string[] {
  const tar = gunzipSync(archive);
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tar.length; offset += 512) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const name = new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, "");
    const size = parseInt(
      new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, ""),
      8,
    );
    names.push(name);
    offset += Math.ceil(size / 512) * 512;
  }
  return names;
}

Deno.test("Packer's default bundle commands bundle the instance root into S3 and RegisterImage accepts it", async () => {
  await withEmulator({}, async (emulator, client) => {
    // The bundle commands on the instance read and write here: outside its private /tmp.
    const dir = await Deno.makeTempDir({ dir: INSTANCE_VISIBLE_DIR });
    try {
      const booted = await bootInstance(emulator, client, dir);
      await writeX509Placeholders(dir);
      const provision = await ssh(
        booted.host,
        booted.port,
        booted.keyPath,
        "mkdir -p $KILN_INSTANCE_ROOT/opt/app $KILN_INSTANCE_ROOT/tmp && echo built > $KILN_INSTANCE_ROOT/opt/app/version && mkdir -p $KILN_INSTANCE_ROOT/mnt && echo scratch > $KILN_INSTANCE_ROOT/mnt/scratch",
      );
      assert.equal(provision.code, 0, provision.stderr);

      const bundleVol =
        `sudo -i -n ec2-bundle-vol -k ${dir}/pk.pem -u 123456789012 -c ${dir}/cert.pem ` +
        `-r x86_64 -e /tmp/*,/mnt -d ${dir} -p image-1700000000 --batch --no-filter`;
      const bundled = await ssh(booted.host, booted.port, booted.keyPath, bundleVol);
      assert.equal(bundled.code, 0, bundled.stderr + bundled.stdout);
      assert.match(bundled.stdout, /ec2-bundle-vol complete/);
      const manifest = await Deno.readTextFile(`${dir}/image-1700000000.manifest.xml`);
      assert.match(manifest, /<architecture>x86_64<\/architecture>/);
      assert.match(manifest, /<filename>image-1700000000\.part\.00<\/filename>/);

      const upload =
        `sudo -i -n ec2-upload-bundle -b kiln-bundles/builds -m ${dir}/image-1700000000.manifest.xml ` +
        `-a AKIAKILNTEST00000001 -s kiln-test-secret -d ${dir} --batch --region us-east-1 --retry`;
      const uploaded = await ssh(booted.host, booted.port, booted.keyPath, upload);
      assert.equal(uploaded.code, 0, uploaded.stderr + uploaded.stdout);
      assert.deepEqual(emulator.s3.store.listAll(), [
        "kiln-bundles/builds/image-1700000000.manifest.xml",
        "kiln-bundles/builds/image-1700000000.part.00",
      ]);
      const names = tarNames(
        emulator.s3.store.get("kiln-bundles", "builds/image-1700000000.part.00")!.body,
      );
      assert.ok(names.includes("./opt/app/version"), `bundle holds the provisioned file: ${names}`);
      assert.ok(names.includes("./etc/kiln-source-ami"));
      assert.ok(!names.some((n) => n.startsWith("./mnt")), "-e excludes paths of the root");

      const registered = await client.send(
        new RegisterImageCommand({
          Name: "kiln-instance-store-1700000000",
          ImageLocation: "kiln-bundles/builds/image-1700000000.manifest.xml",
          VirtualizationType: "hvm",
          Description: "built by kiln",
        }),
      );
      const image = await waitFor("available", async () => {
        const out = await client.send(
          new DescribeImagesCommand({ ImageIds: [registered.ImageId!] }),
        );
        return out.Images![0].State === "available" ? out.Images![0] : undefined;
      });
      assert.equal(image.RootDeviceType, "instance-store");
      assert.equal(image.Architecture, "x86_64", "taken from the manifest");
      assert.equal(image.OwnerId, "123456789012");
      assert.equal(image.ImageLocation, "kiln-bundles/builds/image-1700000000.manifest.xml");
      await assert.rejects(
        client.send(
          new RegisterImageCommand({
            Name: "kiln-instance-store-1700000000",
            ImageLocation: "kiln-bundles/builds/image-1700000000.manifest.xml",
          }),
        ),
        (e: Error) => e.name === "InvalidAMIName.Duplicate",
      );
      await shutdown(client, booted);
      await client.send(new DeregisterImageCommand({ ImageId: registered.ImageId }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("RegisterImage refuses a manifest that is missing, or whose part is missing or corrupt", async () => {
  await withEmulator({ buckets: ["kiln-bundles"] }, async (emulator, client) => {
    const invalidManifest = (e: Error) => e.name === "InvalidManifest";
    await assert.rejects(
      client.send(
        new RegisterImageCommand({ Name: "a-1", ImageLocation: "kiln-bundles/none.manifest.xml" }),
      ),
      invalidManifest,
    );
    const store = emulator.s3.store;
    const part = new TextEncoder().encode("part bytes");
    const manifest = (digest: string) =>
      new TextEncoder().encode(
        `<manifest><machine_configuration><architecture>i386</architecture></machine_configuration><image><parts count="1"><part index="0"><filename>img.part.00</filename><digest algorithm="SHA1">${digest}</digest></part></parts></image></manifest>`,
      );
    store.put(
      "kiln-bundles",
      "img.manifest.xml",
      manifest("0000000000000000000000000000000000000000"),
      "text/xml",
    );
    await assert.rejects(
      client.send(
        new RegisterImageCommand({ Name: "a-2", ImageLocation: "kiln-bundles/img.manifest.xml" }),
      ),
      invalidManifest,
      "part missing",
    );
    store.put("kiln-bundles", "img.part.00", part, "binary/octet-stream");
    await assert.rejects(
      client.send(
        new RegisterImageCommand({ Name: "a-3", ImageLocation: "kiln-bundles/img.manifest.xml" }),
      ),
      invalidManifest,
      "digest mismatch",
    );
    const sha1 = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-1", part)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    store.put("kiln-bundles", "img.manifest.xml", manifest(sha1), "text/xml");
    const ok = await client.send(
      new RegisterImageCommand({ Name: "a-4", ImageLocation: "kiln-bundles/img.manifest.xml" }),
    );
    assert.match(ok.ImageId!, /^ami-[0-9a-f]{17}$/);
  });
});

Deno.test("image attributes, CopyImage to another region and DeregisterImage", async () => {
  await withEmulator({ buckets: ["b1"] }, async (emulator, client) => {
    const store = emulator.s3.store;
    store.put(
      "b1",
      "i.manifest.xml",
      new TextEncoder().encode("<manifest><image></image></manifest>"),
      "text/xml",
    );
    const { ImageId } = await client.send(
      new RegisterImageCommand({ Name: "kiln-attrs", ImageLocation: "b1/i.manifest.xml" }),
    );
    await client.send(
      new ModifyImageAttributeCommand({
        ImageId,
        LaunchPermission: { Add: [{ UserId: "111122223333" }, { Group: "all" }] },
      }),
    );
    await client.send(
      new ModifyImageAttributeCommand({ ImageId, Description: { Value: "new description" } }),
    );
    await client.send(
      new ModifyImageAttributeCommand({
        ImageId,
        Attribute: "productCodes",
        ProductCodes: ["abc123"],
      }),
    );
    const perms = await client.send(
      new DescribeImageAttributeCommand({ ImageId, Attribute: "launchPermission" }),
    );
    assert.deepEqual(perms.LaunchPermissions, [{ UserId: "111122223333" }, { Group: "all" }]);
    const description = await client.send(
      new DescribeImageAttributeCommand({ ImageId, Attribute: "description" }),
    );
    assert.equal(description.Description!.Value, "new description");
    const image =
      (await client.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
    assert.equal(image.Public, true);
    assert.equal(image.ProductCodes![0].ProductCodeId, "abc123");

    const west = ec2Client(emulator, { region: "us-west-2" });
    try {
      const copy = await west.send(
        new CopyImageCommand({
          SourceRegion: "us-east-1",
          SourceImageId: ImageId,
          Name: "kiln-attrs-copy",
          ClientToken: "copy-1",
        }),
      );
      const retry = await west.send(
        new CopyImageCommand({
          SourceRegion: "us-east-1",
          SourceImageId: ImageId,
          Name: "kiln-attrs-copy",
          ClientToken: "copy-1",
        }),
      );
      assert.equal(retry.ImageId, copy.ImageId, "CopyImage is idempotent by ClientToken");
      const copied =
        (await west.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images![0];
      assert.equal(copied.SourceImageId, ImageId);
      assert.equal(copied.SourceImageRegion, "us-east-1");
      assert.equal(copied.RootDeviceType, "instance-store");
      await assert.rejects(
        client.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] })),
        (e: Error) => e.name === "InvalidAMIID.NotFound",
        "the copy lives in us-west-2 only",
      );
      await west.send(new DeregisterImageCommand({ ImageId: copy.ImageId }));
    } finally {
      west.destroy();
    }
    await client.send(new DeregisterImageCommand({ ImageId }));
    await assert.rejects(
      client.send(new DeregisterImageCommand({ ImageId })),
      (e: Error) => e.name === "InvalidAMIID.NotFound",
    );
    const seeded =
      (await client.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images![0];
    await assert.rejects(
      client.send(new DeregisterImageCommand({ ImageId: seeded.ImageId })),
      (e: Error) => e.name === "AuthFailure",
    );
  });
});
