/**
 * The qemu builder's prepared configuration as its steps will read it:
 * Packer's defaults (several derived from the build's name or from other
 * options), the typed view with sizes and the -smp value worked out, raw
 * run-time templates kept raw, and errors that name file, path and line.
 */
import { assert, assertEquals, assertMatch } from "../template/assert.ts";
import { join } from "node:path";
import { prepareTemplate } from "../../template/prepare.ts";
import { TemplateError } from "../../template/types.ts";
import { qemuConfig, qemuImgSizeBytes, smpArgument } from "../../builders/qemu/config.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { kilnRegistry } from "../../registry.ts";

const MD5 = "md5:d41d8cd98f00b204e9800998ecf8427e";

/** Writes a template with one qemu builder (plus `extra` on it) and prepares it. */
async function prepared(
  dir: string,
  extra: Record<string, unknown>,
  template: Record<string, unknown> = {},
) {
  const file = join(dir, "t.json");
  const builder = { type: "qemu", iso_url: "x.iso", iso_checksum: MD5, communicator: "none" };
  await Deno.writeTextFile(
    file,
    JSON.stringify({ ...template, builders: [{ ...builder, ...extra }] }, null, 2),
  );
  const { builds } = await prepareTemplate(file, {}, {
    registry: kilnRegistry,
    freshOutputs: true,
  });
  return builds[0];
}

async function problems(dir: string, extra: Record<string, unknown>): Promise<string[]> {
  try {
    await prepared(dir, extra);
    return [];
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

Deno.test("qemu defaults: Packer's, named after the build, accelerator left to the run", async () => {
  await withTempDir(async (dir) => {
    const build = await prepared(dir, { name: "debian" });
    const c = qemuConfig(build.config);
    assertEquals(c.vm_name, "packer-debian");
    assertEquals(c.output_directory, "output-debian");
    assertEquals(c.disk_size, "40960M");
    assertEquals(c.diskSizeBytes, 40960 * 1024 ** 2);
    assertEquals(c.format, "qcow2");
    assertEquals(c.disk_interface, "virtio");
    assertEquals([c.disk_cache, c.disk_discard, c.disk_detect_zeroes], [
      "writeback",
      "ignore",
      "off",
    ]);
    assertEquals(c.net_device, "virtio-net");
    assertEquals(c.accelerator, undefined, "kvm-or-tcg is probed when the VM starts");
    assertEquals([c.qemu_binary, c.machine_type, c.memory], ["qemu-system-x86_64", "pc", 512]);
    assertEquals([c.cpus, c.smp], [1, "1"]);
    assertEquals([c.vnc_bind_address, c.vnc_port_min, c.vnc_port_max], ["127.0.0.1", 5900, 6000]);
    assertEquals([c.host_port_min, c.host_port_max], [2222, 4444]);
    assertEquals([c.http_port_min, c.http_port_max, c.http_bind_address], [8000, 9000, "0.0.0.0"]);
    assertEquals([c.boot_wait, c.shutdown_timeout], [10_000, 300_000]);
    assertEquals(c.iso_urls, ["x.iso"]);
    assertEquals(c.iso_url, undefined, "iso_url is folded into iso_urls, as Packer");
    assertEquals(c.iso_target_extension, "iso");
    assertEquals(c.isoChecksumSpec, {
      kind: "digest",
      type: "md5",
      hex: "d41d8cd98f00b204e9800998ecf8427e",
    });
    assertEquals([c.qmp_enable, c.qmp_socket_path], [false, undefined]);
    assertEquals([c.efi_boot, c.efi_firmware_code], [false, undefined]);
    assertEquals(c.tpm_device_type, "tpm-tis");
    assertEquals([c.qemuargs, c.boot_command, c.boot_steps], [[], [], []]);
    assertEquals(c.qemu_img_args, { convert: [], create: [], resize: [] });
    assertEquals([c.skip_compaction, c.disk_compression, c.headless], [false, false, false]);
  });
});

Deno.test("qemu defaults follow a build name made of user variables", async () => {
  await withTempDir(async (dir) => {
    const build = await prepared(dir, { name: "{{user `os`}}-{{user `arch`}}" }, {
      variables: { os: "debian", arch: "amd64" },
    });
    assertEquals(build.config.vm_name, "packer-debian-amd64");
    assertEquals(build.config.output_directory, "output-debian-amd64");
  });
});

Deno.test("qemu options derived from others, as Packer's Prepare sets them", async () => {
  await withTempDir(async (dir) => {
    const raw = qemuConfig((await prepared(dir, { format: "raw", disk_compression: true })).config);
    assertEquals([raw.skip_compaction, raw.disk_compression], [true, false]);

    const backed = qemuConfig(
      (await prepared(dir, { disk_image: true, use_backing_file: true })).config,
    );
    assertEquals(backed.skip_compaction, true);

    const vnc = qemuConfig(
      (await prepared(dir, { vm_name: "img", output_directory: "out", vnc_use_password: true }))
        .config,
    );
    assertEquals([vnc.qmp_enable, vnc.qmp_socket_path], [true, join("out", "img.monitor")]);

    const efi = qemuConfig(
      (await prepared(dir, { efi_firmware_vars: "/srv/VARS.fd" })).config,
    );
    assertEquals(
      [efi.efi_boot, efi.efi_firmware_code, efi.efi_firmware_vars],
      [true, "/usr/share/OVMF/OVMF_CODE.fd", "/srv/VARS.fd"],
    );

    const streamed = qemuConfig((await prepared(dir, { iso_skip_cache: true })).config);
    assertEquals(streamed.isoChecksumSpec, { kind: "none" });

    const ports = qemuConfig(
      (await prepared(dir, { ssh_host_port_min: 3000, ssh_host_port_max: 3100 })).config,
    );
    assertEquals([ports.host_port_min, ports.host_port_max], [3000, 3100]);
    assertEquals(ports.ssh_host_port_min, undefined);

    const direct = qemuConfig((await prepared(dir, { skip_nat_mapping: true })).config);
    assertEquals([direct.ssh_host, direct.winrm_host], ["127.0.0.1", "127.0.0.1"]);

    const sized = qemuConfig((await prepared(dir, { disk_size: 10240, memory: 4 })).config);
    assertEquals([sized.disk_size, sized.diskSizeBytes], ["10240M", 10240 * 1024 ** 2]);
    assertEquals(sized.memory, 512, "below 10 MB means the default, as Packer");

    const zero = qemuConfig((await prepared(dir, { boot_wait: "0s", vnc_port_min: 0 })).config);
    assertEquals([zero.boot_wait, zero.vnc_port_min], [10_000, 5900], "zero means default");
    const none = qemuConfig((await prepared(dir, { boot_wait: "-1s" })).config);
    assertEquals(none.boot_wait, -1000, "negative: no wait (the documented way to get 0)");
  });
});

Deno.test("qemu run-time templates stay raw; the rest is interpolated when prepared", async () => {
  await withTempDir(async (dir) => {
    const build = await prepared(dir, {
      boot_command: ["<tab> ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
      qemuargs: [["-netdev", "user,hostfwd=tcp::{{ .SSHHostPort }}-:22,id=f"], ["-m", 1024]],
      output_directory: "out/{{build_type}}-{{user `v`}}",
    }, { variables: { v: "7" } });
    const c = qemuConfig(build.config);
    assertEquals(c.boot_command, ["<tab> ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]);
    const steps = await prepared(dir, { boot_steps: [["{{ .Name }}<enter>", "name"]] });
    assertEquals(qemuConfig(steps.config).boot_steps, [["{{ .Name }}<enter>", "name"]]);
    assertEquals(c.qemuargs, [["-netdev", "user,hostfwd=tcp::{{ .SSHHostPort }}-:22,id=f"], [
      "-m",
      "1024",
    ]]);
    assertEquals(c.output_directory, "out/qemu-7");
  });
});

Deno.test("qemu -smp: cpus capped by the topology, or the topology's product", () => {
  assertEquals(smpArgument({}), "1");
  assertEquals(smpArgument({ cpus: 4 }), "4");
  assertEquals(smpArgument({ sockets: 2, cores: 2, threads: 2 }), "8,sockets=2,cores=2,threads=2");
  assertEquals(smpArgument({ cpus: 16, sockets: 2, cores: 2 }), "4,sockets=2,cores=2");
  assertEquals(smpArgument({ cpus: 2, sockets: 2, cores: 4 }), "2,sockets=2,cores=4");
  assertEquals(smpArgument({ threads: 2 }), "2,threads=2");
});

Deno.test("qemu-img sizes: units are powers of 1024, b is bytes", () => {
  assertEquals(qemuImgSizeBytes("10G"), 10 * 1024 ** 3);
  assertEquals(qemuImgSizeBytes("1t"), 1024 ** 4);
  assertEquals(qemuImgSizeBytes("5b"), 5);
  assertEquals(qemuImgSizeBytes("4096"), 4096);
  assertEquals(qemuImgSizeBytes("1.5G"), undefined);
});

Deno.test("qemu problems name the option's JSON path; all of them are reported", async () => {
  await withTempDir(async (dir) => {
    assertEquals(
      await problems(dir, {
        disk_size: "10GB",
        format: "vmdk",
        qemuargs: [["-m"], { a: 1 }],
      }),
      ["builders[0].qemuargs[1]: expected an array of strings, got an object"],
      "a value that does not decode stops there, as Packer's decoder does",
    );
    const found = await problems(dir, {
      disk_size: "10GB",
      format: "vmdk",
      vnc_port_min: 6001,
      iso_checksum: "sha256:abc",
      boot_command: ["<wait-5s>"],
    });
    assertEquals(found.map((f) => f.slice(0, f.indexOf(": "))).sort(), [
      "builders[0].boot_command",
      "builders[0].disk_size",
      "builders[0].format",
      "builders[0].iso_checksum",
      "builders[0].vnc_port_min",
    ]);
  });
});

Deno.test("kiln validate: a bad qemu option is reported with file, line, path and expectation", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      `{
  "builders": [{
    "type": "qemu",
    "iso_url": "x.iso",
    "iso_checksum": "none",
    "ssh_username": "u",
    "disk_size": "10 GB"
  }]
}
`,
    );
    const out = await runKiln(["validate", "t.json"], { cwd: dir });
    assertEquals(out.code, 1);
    assertMatch(
      out.stderr + out.stdout,
      /t\.json:7:18: builders\[0\]\.disk_size: Invalid disk size\. Expected a number of megabytes/,
    );
    assert(!/\bat \S+:\d+:\d+\)?$/m.test(out.stderr), `a stack trace:\n${out.stderr}`);
  });
});

Deno.test("kiln validate refuses an existing output directory; build -force does not", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "output-qemu"));
    await Deno.writeTextFile(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "qemu", iso_url: "x.iso", iso_checksum: "none", communicator: "none" }],
      }),
    );
    const validate = await runKiln(["validate", "t.json"], { cwd: dir });
    assertEquals(validate.code, 1);
    assertMatch(validate.stderr, /Output directory 'output-qemu' already exists/);
    const env = { KILN_SEAL_DIR: join(dir, "seals") };
    const build = await runKiln(["build", "t.json"], { cwd: dir, home: join(dir, "home"), env });
    assertEquals(build.code, 1);
    assertMatch(build.stdout + build.stderr, /Output directory 'output-qemu' already exists/);
    const forced = await runKiln(["build", "-force", "t.json"], {
      cwd: dir,
      home: join(dir, "home"),
      env,
    });
    assertEquals(forced.code, 1);
    assert(!/already exists/.test(forced.stdout + forced.stderr), forced.stdout + forced.stderr);
    assertMatch(
      forced.stdout + forced.stderr,
      /error downloading ISO:\n {2}x.iso: source path error: no such file/,
    );
  });
});

Deno.test("kiln build of a qemu template fails at run time, clearly, leaving nothing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "qemu", iso_url: "x.iso", iso_checksum: "none", communicator: "none" }],
      }),
    );
    const out = await runKiln(["build", "t.json"], {
      cwd: dir,
      home: join(dir, "home"),
      env: { KILN_SEAL_DIR: join(dir, "seals") },
    });
    assertEquals(out.code, 1);
    assertMatch(
      out.stdout + out.stderr,
      /error downloading ISO:\n {2}x.iso: source path error: no such file/,
    );
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(left, ["home", "seals", "t.json"]);
  });
});

Deno.test("kiln inspect shows a qemu build", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "t.json"),
      JSON.stringify({ builders: [{ type: "qemu", name: "debian" }, { type: "qemu" }] }),
    );
    const out = await runKiln(["inspect", "t.json"], { cwd: dir });
    assertEquals(out.code, 0);
    // Names are padded to a column, as Packer prints them.
    assertMatch(out.stdout, /Builders:\n\n {2}debian \(qemu\)\n {2}qemu {2}\n/);
  });
});
