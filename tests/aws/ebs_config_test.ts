/**
 * amazon-ebs configuration as `kiln validate` judges it, against Packer
 * 1.6.6 where it has a say: the real-world amazon-ebs templates validate as
 * Packer validates them, a template with Packer's KMS and block-device
 * mistakes gets Packer's five errors, each at its file position and JSON
 * path, and a template without `region` (either amazon builder) is valid, as
 * the region may come from the environment.
 */
import assert from "node:assert/strict";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const REALWORLD = new URL("../../../shared/realworld/templates/", import.meta.url).pathname;
const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

async function run(cmd: string, args: string[], cwd: string) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { CHECKPOINT_DISABLE: "1", NO_COLOR: "1", KILN_HOME: `${cwd}/.kiln` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

const kilnValidate = (path: string, cwd: string) =>
  run(Deno.execPath(), ["run", "-A", CLI, "validate", path], cwd);

Deno.test("amazon-ebs: real-world templates validate as Packer 1.6.6 says", async () => {
  for (
    const name of [
      "hashicorp__packer__test__fixtures__amazon-ebs__minimal.json",
      "hashicorp__packer__test__fixtures__amazon-ebs__ami_region_copy.json",
    ]
  ) {
    const kiln = await kilnValidate(`${REALWORLD}${name}`, REALWORLD);
    assert.equal(kiln.code, 0, `${name}: ${kiln.output}`);
    // Quiet on success, as Packer 1.6.6's validate.
    assert.equal(kiln.output.trim(), "", name);
    if (packerInstalled) {
      const packer = await run("packer", ["validate", name], REALWORLD);
      assert.equal(packer.code, 0, `Packer on ${name}: ${packer.output}`);
      assert.equal(packer.output.trim(), "", `Packer on ${name}`);
    }
  }
});

Deno.test("amazon-ebs: Packer's KMS and block device errors, each with its file position and JSON path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiln-ebs-config-" });
  try {
    const builder = {
      type: "amazon-ebs",
      source_ami: "ami-12345678",
      instance_type: "t3.micro",
      ssh_username: "ec2-user",
      ami_name: "x-{{timestamp}}",
      kms_key_id: "arn:aws:kms:us-east-1:1:key/a",
      region_kms_key_ids: { "us-west-2": "k" },
      ami_regions: ["us-west-2", "eu-west-1"],
      launch_block_device_mappings: [{ volume_size: 10 }],
    };
    await Deno.writeTextFile(
      `${dir}/bad.json`,
      JSON.stringify({ builders: [builder] }, null, 2),
    );
    const kiln = await kilnValidate(`${dir}/bad.json`, dir);
    assert.equal(kiln.code, 1, kiln.output);
    const lines = kiln.output.split("\n").filter((l) => l.startsWith("  * "));
    const at = (path: string, message: string) =>
      new RegExp(`bad\\.json:\\d+:\\d+: builders\\[0\\]\\.${path}: ${message}`);
    const expected = [
      at("region_kms_key_ids", "Region eu-west-1 is in ami_regions but not in region_kms_key_ids"),
      at("kms_key_id", "If you have set either region_kms_key_ids or kms_key_id, encrypt_boot"),
      at("kms_key_id", '"arn:aws:kms:us-east-1:1:key/a" is not a valid KMS Key Id'),
      at("region_kms_key_ids\\.us-west-2", '"k" is not a valid KMS Key Id'),
      at("launch_block_device_mappings\\[0\\]\\.device_name", "The `device_name` must be"),
    ];
    assert.equal(lines.length, expected.length, kiln.output);
    for (const pattern of expected) assert.ok(lines.some((l) => pattern.test(l)), `${pattern}`);
    assert.doesNotMatch(kiln.output, /\n\s+at /, "no stack trace");
    if (packerInstalled) {
      const packer = await run("packer", ["validate", "bad.json"], dir);
      assert.match(packer.output, /5 error\(s\) occurred/, packer.output);
    }

    // An option of the other amazon builder, a deprecate_at that is no time, a deprecated key.
    await Deno.writeTextFile(
      `${dir}/bad2.json`,
      JSON.stringify({
        builders: [{
          ...builder,
          kms_key_id: undefined,
          region_kms_key_ids: undefined,
          launch_block_device_mappings: undefined,
          s3_bucket: "bundles",
          deprecate_at: "next tuesday",
          enhanced_networking: true,
        }],
      }),
    );
    const second = await kilnValidate(`${dir}/bad2.json`, dir);
    assert.equal(second.code, 1);
    assert.match(second.output, /builders\[0\]\.s3_bucket: unknown configuration key: "s3_bucket"/);
    assert.match(second.output, /builders\[0\]\.deprecate_at: expected an RFC 3339 time/);
    // As Packer 1.6.6: a key `packer fix` renames (to ena_support) is refused by name.
    assert.match(
      second.output,
      /builders\[0\]\.enhanced_networking: Deprecated configuration key: 'enhanced_networking'/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("amazon builders: no region in the template is valid (it may come from the environment)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiln-ebs-region-" });
  try {
    const common = {
      source_ami: "ami-12345678",
      ssh_username: "u",
      ami_name: "abc-{{timestamp}}",
    };
    await Deno.writeTextFile(
      `${dir}/t.json`,
      JSON.stringify({
        builders: [
          { ...common, type: "amazon-ebs", instance_type: "t3.micro" },
          {
            ...common,
            type: "amazon-instance",
            instance_type: "m1.small",
            account_id: "1",
            s3_bucket: "b",
            x509_cert_path: `${dir}/t.json`,
            x509_key_path: `${dir}/t.json`,
          },
        ],
      }),
    );
    const kiln = await kilnValidate(`${dir}/t.json`, dir);
    assert.equal(kiln.code, 0, kiln.output);
    if (packerInstalled) assert.equal((await run("packer", ["validate", "t.json"], dir)).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
