/**
 * amazon-ebs against the reference: Packer 1.6.6's own amazon-ebs builder
 * (aws-sdk-go) and kiln's build the same template against two fresh
 * emulators — launch, SSH, provision, stop, CreateImage, AMI and snapshot
 * tags, cleanup. Both must leave the same thing (one AMI with its one
 * snapshot, tagged alike), and kiln must make no more EC2 calls than Packer.
 * Skipped when `packer` is not installed.
 */
import assert from "node:assert/strict";
import { type Ledger, startEc2Emulator } from "../support/ec2/mod.ts";
import { INSTANCE_VISIBLE_DIR } from "../support/ec2/mod.ts";
import { freePort } from "../support/sshd.ts";

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Builds the template with `tool` against a fresh emulator; returns its ledger. */
async function build(tool: "packer" | "kiln"): Promise<Ledger> {
  const sshPort = freePort();
  const emulator = await startEc2Emulator({ sshPort, pendingMs: 200, shuttingDownMs: 100 });
  const dir = await Deno.makeTempDir({ dir: INSTANCE_VISIBLE_DIR, prefix: `kiln-ebs-${tool}-` });
  try {
    const template = {
      builders: [{
        type: "amazon-ebs",
        access_key: "AKIAKILNTEST00000001",
        secret_key: "kiln-test-secret",
        region: "us-east-1",
        custom_endpoint_ec2: emulator.endpoint,
        skip_credential_validation: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        source_ami_filter: {
          filters: { name: "amzn2-ami-hvm-*", "root-device-type": "ebs" },
          owners: ["amazon"],
          most_recent: true,
        },
        instance_type: "t3.micro",
        ssh_username: Deno.env.get("USER") || "root",
        ssh_port: sshPort,
        ssh_timeout: "1m",
        ami_name: `${tool}-ebs-{{timestamp}}`,
        tags: { "built-by": "{{.SourceAMIName}}" },
        snapshot_tags: { snap: "yes" },
      }],
      provisioners: [{ type: "shell", inline: ["echo provisioned"] }],
    };
    await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify(template));
    const args = tool === "kiln"
      ? [Deno.execPath(), "run", "-A", CLI, "build", `${dir}/t.json`]
      : ["packer", "build", "-color=false", `${dir}/t.json`];
    const out = await new Deno.Command(args[0], {
      args: args.slice(1),
      cwd: dir,
      env: {
        CHECKPOINT_DISABLE: "1",
        AWS_POLL_DELAY_SECONDS: "1",
        PACKER_CACHE_DIR: `${dir}/cache`,
        KILN_HOME: `${dir}/.kiln`,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${tool}:\n${log}`);
    assert.match(log, /us-east-1: ami-[0-9a-f]{17}/);
    return emulator.ledger();
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function total(ledger: Ledger): number {
  return Object.values(ledger.calls).reduce((a, b) => a + b, 0);
}

Deno.test({
  name: "amazon-ebs: kiln leaves what Packer 1.6.6 leaves, with no more EC2 calls",
  ignore: !packerInstalled,
  fn: async () => {
    const packer = await build("packer");
    const kiln = await build("kiln");
    for (const [tool, l] of [["packer", packer], ["kiln", kiln]] as const) {
      assert.deepEqual(l.instances, [], `${tool}: instance terminated`);
      assert.deepEqual(l.keyPairs, [], `${tool}: key pair deleted`);
      assert.deepEqual(l.securityGroups, [], `${tool}: security group deleted`);
      assert.deepEqual(l.volumes, [], `${tool}: the instance's volume went with it`);
      assert.equal(l.images.length, 1, `${tool}: one AMI`);
      assert.equal(l.images[0].tags["built-by"], "amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2");
      assert.equal(l.snapshots.length, 1, `${tool}: one snapshot, of the root volume`);
      // kiln also tags what it makes with its run (kiln:run-id, kiln:build).
      const userTags = Object.fromEntries(
        Object.entries(l.snapshots[0].tags).filter(([k]) => !k.startsWith("kiln:")),
      );
      assert.deepEqual(userTags, {
        "built-by": "amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2",
        snap: "yes",
      });
    }
    console.log(
      `EC2 calls per amazon-ebs build: kiln ${total(kiln)}, Packer 1.6.6 ${total(packer)}`,
    );
    console.log(`kiln: ${JSON.stringify(kiln.calls)}\npacker: ${JSON.stringify(packer.calls)}`);
    assert.ok(
      total(kiln) <= total(packer),
      `kiln ${JSON.stringify(kiln.calls)} vs Packer ${JSON.stringify(packer.calls)}`,
    );
  },
});
