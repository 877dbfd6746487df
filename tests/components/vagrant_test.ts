/**
 * The vagrant post-processor on the artifacts kiln's builders make (the
 * qemu builder's and amazon-instance's own `artifact()` over their step
 * outputs, with a disk made by qemu-img): the box's layout and contents
 * byte for byte as Packer's source writes them, the real Vagrant from
 * Debian adding both boxes, the options, and the errors Packer 1.6.6 gives.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { vagrantPostProcessor } from "../../post_processors/vagrant.ts";
import { qemuBuilder } from "../../builders/qemu/mod.ts";
import { amazonInstanceBuilder } from "../../builders/amazon_instance.ts";
import { QEMU_STEP } from "../../steps/qemu/outputs.ts";
import { decodeConfig } from "../../template/decode.ts";
import type { Artifact } from "../../runtime/types.ts";
import { decode, issues, postContext, sh, withTempDir } from "./support.ts";

const schema = vagrantPostProcessor.schema;

/** The qemu builder's artifact for a build whose output directory is `<dir>/out`. */
function qemuArtifactIn(dir: string, extra: Record<string, unknown> = {}): Artifact {
  const problems: string[] = [];
  const config = decodeConfig(
    {
      iso_url: "disk.qcow2",
      iso_checksum: "none",
      disk_image: true,
      vm_name: "fast.qcow2",
      disk_size: "1500M",
      output_directory: join(dir, "out"),
      accelerator: "tcg",
      ssh_username: "root",
      ...extra,
    },
    qemuBuilder.schema,
    "builders[0]",
    (path, message) => problems.push(`${path}: ${message}`),
    { name: "qemu", type: "qemu", force: true },
  );
  assert.deepEqual(problems, []);
  const artifact = qemuBuilder.artifact(
    { [QEMU_STEP.outputDir]: { dir: join(dir, "out") } },
    config,
  );
  assert.ok(artifact);
  return artifact;
}

/** amazon-instance's artifact for AMIs in two regions. */
function amiArtifact(): Artifact {
  const artifact = amazonInstanceBuilder.artifact({
    "aws.region_copy": { amis: { "us-west-2": "ami-0bbb", "eu-west-1": "ami-0aaa" } },
  }, {});
  assert.ok(artifact);
  return artifact;
}

async function box(raw: Record<string, unknown>, input: Artifact, buildName = "qemu") {
  const { ctx, ui } = postContext({ buildName, builderType: "qemu" });
  const result = await vagrantPostProcessor.postProcess(ctx, decode(schema, raw), input);
  return { result, ui };
}

/** The names in a box, in archive order (`tar -t` decompresses gzip itself). */
async function entries(path: string): Promise<string[]> {
  const { code, stdout, stderr } = await sh("tar", ["-tf", path]);
  assert.equal(code, 0, stderr);
  return stdout.trim().split("\n");
}

async function member(path: string, name: string): Promise<string> {
  const { code, stdout, stderr } = await sh("tar", ["-xOf", path, name]);
  assert.equal(code, 0, stderr);
  return stdout;
}

async function sha256(path: string): Promise<string> {
  const { stdout } = await sh("sha256sum", [path]);
  return stdout.split(" ")[0];
}

async function vagrant(home: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("vagrant", {
    args,
    env: { VAGRANT_HOME: home, VAGRANT_CHECKPOINT_DISABLE: "1", NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `vagrant ${args.join(" ")}:\n${text}`);
  return text;
}

const LIBVIRT_VAGRANTFILE = `
# The contents below were provided by the Packer Vagrant post-processor

Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "qemu"
  end
end


# The contents below (if any) are custom contents provided by the
# Packer template during image build.
`;

Deno.test("vagrant: libvirt and aws boxes as Packer lays them out, added by the real Vagrant", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "out"));
    const disk = join(dir, "out", "fast.qcow2");
    const made = await sh("qemu-img", ["create", "-q", "-f", "qcow2", disk, "1500M"]);
    assert.equal(made.code, 0, made.stderr);
    // Some data, so the copy is checked on more than a header.
    const io = await sh("qemu-io", ["-c", "write -P 0x6b 1M 3M", disk]);
    assert.equal(io.code, 0, io.stderr);
    const tpl = join(dir, "tpl.rb");
    await Deno.writeTextFile(tpl, "# box for {{.Provider}} of {{.BuildName}}\n");

    const qemu = await box(
      { output: `${dir}/packer_{{.BuildName}}_{{.Provider}}.box`, vagrantfile_template: tpl },
      qemuArtifactIn(dir),
    );
    const target = join(dir, "packer_qemu_libvirt.box");
    assert.deepEqual(qemu.result.artifact, {
      builderId: "mitchellh.post-processor.vagrant",
      id: "libvirt",
      files: [target],
      description: `'libvirt' provider box: ${target}`,
    });
    assert.equal(qemu.result.keep, false, "a libvirt box replaces its disk");
    assert.equal(qemu.result.forceOverride, true);
    assert.deepEqual(qemu.ui.says, ["Creating Vagrant box for 'libvirt' provider"]);
    assert.ok(qemu.ui.messages.includes(`Copying from artifact: ${disk}`));
    const head = (await Deno.readFile(target)).subarray(0, 2);
    assert.deepEqual([...head], [0x1f, 0x8b], "gzip'd by default");
    // Go's filepath.Walk order, as Packer's box directory is archived; no box.ovf.
    assert.deepEqual(await entries(target), ["Vagrantfile", "box.img", "metadata.json"]);
    assert.equal(
      await member(target, "metadata.json"),
      // 1500M rounds up to 2 GiB.
      '{"format":"qcow2","provider":"libvirt","virtual_size":2}\n',
    );
    assert.equal(
      await member(target, "Vagrantfile"),
      LIBVIRT_VAGRANTFILE + "# box for libvirt of qemu\n\n",
    );
    const x = join(dir, "x");
    await Deno.mkdir(x);
    assert.equal((await sh("tar", ["-xzf", target, "-C", x, "box.img"])).code, 0);
    assert.equal(await sha256(join(x, "box.img")), await sha256(disk), "box.img is the disk");

    const ami = await box({ output: `${dir}/aws-{{.BuildName}}.box` }, amiArtifact(), "ami");
    const amiBox = join(dir, "aws-ami.box");
    assert.equal(ami.result.keep, true, "an AMI box keeps its AMI");
    assert.deepEqual(await entries(amiBox), ["Vagrantfile", "metadata.json"]);
    assert.equal(await member(amiBox, "metadata.json"), '{"provider":"aws"}\n');
    assert.match(
      await member(amiBox, "Vagrantfile"),
      new RegExp(
        '  config\\.vm\\.provider "aws" do \\|aws\\|\\n    \\n' +
          '\\taws\\.region_config "eu-west-1", ami: "ami-0aaa"\\n\\t\\n' +
          '\\taws\\.region_config "us-west-2", ami: "ami-0bbb"\\n\\t\\n  end\\nend\\n',
      ),
    );

    const home = join(dir, "vagrant.d");
    assert.match(
      await vagrant(home, ["box", "add", "--name", "t", target]),
      /Successfully added box 't' \(v0\) for 'libvirt'/,
    );
    await vagrant(home, ["box", "add", "--name", "a", amiBox]);
    const list = await vagrant(home, ["box", "list"]);
    assert.match(list, /^t\s+\(libvirt, 0\)$/m);
    assert.match(list, /^a\s+\(aws, 0\)$/m);
    const stored = join(home, "boxes", "t", "0", "libvirt", "box.img");
    assert.equal(await sha256(stored), await sha256(disk), "Vagrant unpacked the disk intact");
  });
});

Deno.test("vagrant: output data, per-provider override, a plain tar at level 0, includes and architecture", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "out"));
    await sh("qemu-img", ["create", "-q", "-f", "raw", join(dir, "out", "fast.raw"), "8M"]);
    await Deno.writeTextFile(join(dir, "README.md"), "read me\n");
    await Deno.writeTextFile(join(dir, "metadata.json"), '{"provider":"libvirt","mine":true}\n');
    const input = qemuArtifactIn(dir, {
      vm_name: "fast.raw",
      format: "raw",
      disk_size: "8M",
      accelerator: "kvm",
    });
    const { result } = await box({
      output: `${dir}/never-{{.Provider}}.box`,
      compression_level: 9,
      include: [join(dir, "README.md"), join(dir, "metadata.json")],
      architecture: "arm64",
      override: {
        libvirt: {
          output: `${dir}/boxes/{{.ArtifactId}}-{{.Architecture}}.box`,
          compression_level: 0,
        },
        aws: { output: `${dir}/not-this.box` },
      },
    }, input);
    const target = join(dir, "boxes", "fast.raw-arm64.box");
    assert.deepEqual(result.artifact.files, [target]);
    const magic = new TextDecoder().decode((await Deno.readFile(target)).subarray(257, 262));
    assert.equal(magic, "ustar", "level 0 is an uncompressed tar, as Packer writes it");
    assert.deepEqual(await entries(target), [
      "README.md",
      "Vagrantfile",
      "box.img",
      "metadata.json",
    ]);
    assert.equal(
      await member(target, "metadata.json"),
      '{"provider":"libvirt","mine":true}\n',
      "an included metadata.json wins, as in Packer",
    );
    assert.match(await member(target, "Vagrantfile"), /libvirt\.driver = "kvm"/);

    // What the runtime claims in the ledger before the box is written: Packer's default name
    // (relative: the working directory), and the partial file renamed into it.
    const { ctx } = postContext({ buildName: "qemu", runId: "R1" });
    assert.deepEqual(vagrantPostProcessor.outputs!(ctx, decode(schema, {}), input), [
      "packer_qemu_libvirt.box",
    ]);
    assert.deepEqual(vagrantPostProcessor.scratch!(ctx, decode(schema, {}), input), [
      "packer_qemu_libvirt.box.kiln-R1-qemu.partial",
    ]);
    assert.deepEqual(vagrantPostProcessor.outputs!(ctx, decode(schema, {}), amiArtifact()), [
      "packer_qemu_aws.box",
    ]);

    await box({ output: join(dir, "a.box"), architecture: "arm64" }, input);
    assert.equal(
      await member(join(dir, "a.box"), "metadata.json"),
      '{"architecture":"arm64","format":"raw","provider":"libvirt","virtual_size":1}\n',
    );
  });
});

Deno.test("vagrant: artifacts it cannot box fail with Packer's words, and nothing is written", async () => {
  await withTempDir(async (dir) => {
    const file: Artifact = {
      builderId: "packer.file",
      id: "x",
      files: [join(dir, "x")],
      description: "",
    };
    const artifice = { ...file, builderId: "packer.post-processor.artifice" };
    const cases: [Record<string, unknown>, Artifact, string][] = [
      [{}, file, "Unknown artifact type, can't build box: packer.file"],
      [
        {},
        artifice,
        "Unknown provider type: When using an artifact created by the artifice post-processor, " +
        "you need to set the provider_override option.",
      ],
      [{ provider_override: "libvirt" }, artifice, "the libvirt provider needs a qemu builder's"],
      [{ provider_override: "virtualbox" }, file, "kiln cannot make boxes for the 'virtualbox'"],
      [{}, { ...amiArtifact(), id: "ami-1" }, "Poorly formatted artifact ID: ami-1"],
      [{}, qemuArtifactIn(dir, { accelerator: "whpx" }), "Unknown libvirt domain type: whpx"],
      [{}, qemuArtifactIn(dir), "the artifact has no disk named fast.qcow2"],
    ];
    for (const [raw, input, message] of cases) {
      await assert.rejects(box(raw, input), (err: Error) => {
        assert.ok(err.message.includes(message), `${message}\n  got: ${err.message}`);
        return true;
      });
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), []);
  });
});

Deno.test("vagrant: option errors read as Packer 1.6.6 validate's, on the option's path", async () => {
  await withTempDir(async (dir) => {
    const there = join(dir, "there.rb");
    await Deno.writeTextFile(there, "");
    // Recorded from `packer validate` (1.6.6); it lists the providers in map order.
    const cases: [Record<string, unknown>, string[]][] = [
      [{ vagrantfile_template: "gone.rb" }, [
        "c.vagrantfile_template: vagrantfile_template 'gone.rb' does not exist",
      ]],
      [{ vagrantfile_template: "gone.rb", vagrantfile_template_generated: true }, []],
      [{ vagrantfile_template: there, include: ["a", "b"], compression_level: 9 }, []],
      [{ provider_override: "qemu" }, [
        "c.provider_override: The given provider_override qemu is not valid. Please choose " +
        "from one of aws, azure, digitalocean, docker, google, hyperv, libvirt, lxc, " +
        "parallels, scaleway, virtualbox, vmware",
      ]],
      // Packer accepts these and fails when the build gets there.
      [{ compression_level: 10 }, [
        "c.compression_level: Invalid compression level. Expected an integer from -1 to 9.",
      ]],
      [{ override: { libvirt: { compression_level: -5, bogus: 1 }, aws: "x" } }, [
        'c.override.libvirt.bogus: unknown configuration key: "bogus"',
        "c.override.libvirt.compression_level: Invalid compression level. Expected an " +
        "integer from -1 to 9.",
        "c.override.aws: expected an object of options for the aws provider",
      ]],
    ];
    for (const [raw, expected] of cases) {
      assert.deepEqual(issues(schema, raw), expected, JSON.stringify(raw));
    }
  });
});
