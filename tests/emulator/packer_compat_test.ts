/**
 * The reference implementation against the emulator: Packer 1.6.6's own
 * amazon-instance builder (aws-sdk-go, not our SDK) builds an instance-store
 * AMI end to end — key pair, security group, instance, SSH, provisioning,
 * Packer's default bundle commands with `sudo -i -n`, upload, RegisterImage,
 * cleanup. Skipped when `packer` is not installed.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { startEc2Emulator } from "../support/ec2/mod.ts";
import { freePort } from "../support/sshd.ts";
import { emulatorBuilder, writeX509Placeholders } from "./helpers.ts";

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

/** Runs `packer build` for amazon-instance against a fresh emulator; returns the emulator's ledger. */
async function packerBuild(extra: Record<string, unknown>) {
  const sshPort = freePort();
  const emulator = await startEc2Emulator({ sshPort, pendingMs: 200, shuttingDownMs: 100 });
  const dir = await Deno.makeTempDir({ prefix: "kiln-packer-compat-" });
  try {
    await writeX509Placeholders(dir);
    // Packer's default x509_upload_path and bundle_destination (/tmp): each instance has its own.
    const template = {
      builders: [emulatorBuilder(emulator.endpoint, dir, sshPort, {
        ssh_interface: "public_ip",
        ami_name: "packer-on-kiln-emulator-{{timestamp}}",
        tags: { "built-by": "packer" },
        ...extra,
      })],
      provisioners: [{
        type: "shell",
        inline: ["echo provisioned > $KILN_INSTANCE_ROOT/etc/provisioned"],
      }],
    };
    await Deno.writeTextFile(`${dir}/template.json`, JSON.stringify(template));
    const out = await new Deno.Command("packer", {
      args: ["build", "-color=false", `${dir}/template.json`],
      cwd: dir,
      env: {
        CHECKPOINT_DISABLE: "1",
        AWS_POLL_DELAY_SECONDS: "1",
        PACKER_CACHE_DIR: `${dir}/cache`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, log);
    const ami = log.match(/us-east-1: (ami-[0-9a-f]{17})/)?.[1];
    assert.ok(ami, log);

    const ledger = emulator.ledger();
    assert.deepEqual(ledger.instances, [], "Packer terminated its instance");
    assert.deepEqual(ledger.launchTemplates, []);
    assert.deepEqual(ledger.spotRequests, []);
    assert.deepEqual(ledger.keyPairs, [], "and deleted its key pair");
    assert.deepEqual(ledger.securityGroups, [], "and its security group");
    assert.deepEqual(ledger.images.map((i) => [i.imageId, i.tags["built-by"]]), [[
      ami,
      "packer",
    ]]);
    const parts = ledger.s3Objects.filter((o) => o.includes(".part."));
    assert.equal(parts.length, 1, "Packer leaves the bundle in S3 (kiln will clean it up)");
    const [bucket, ...key] = parts[0].split("/");
    const tar = new TextDecoder("latin1").decode(
      gunzipSync(emulator.s3.store.get(bucket, key.join("/"))!.body),
    );
    assert.match(tar, /\.\/etc\/provisioned\0/, "the provisioned file is in the bundle");
    return ledger;
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "Packer 1.6.6 builds an amazon-instance AMI against the emulator and leaves only the AMI",
  ignore: !packerInstalled,
  fn: async () => {
    const ledger = await packerBuild({});
    assert.equal(ledger.calls.RunInstances, 1);
  },
});

Deno.test({
  name: "Packer 1.6.6's spot path (launch template + instant fleet) works against the emulator",
  ignore: !packerInstalled,
  fn: async () => {
    const ledger = await packerBuild({ spot_price: "0.05" });
    assert.equal(ledger.calls.CreateFleet, 1);
    assert.equal(ledger.calls.DeleteLaunchTemplate, 1);
    assert.equal(ledger.calls.RunInstances, undefined);
  },
});
