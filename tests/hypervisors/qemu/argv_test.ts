/**
 * kiln's qemu command line against Packer's: each fixture in
 * tests/fixtures/qemu_argv/ holds a tiny template and the argv Packer 1.6.6
 * ran for it (recorded by record_packer_argv.ts with a stand-in qemu). The
 * template is mapped onto QemuArgvOptions with Packer's defaults, kiln's
 * argv is built, and both are compared switch by switch (Packer writes
 * switches in random map order; the order of values within a switch
 * matters and is compared). The only differences allowed are the ones
 * listed in `packerToKiln`, each a documented decision.
 */
import assert from "node:assert/strict";
import {
  defaultArgs,
  mergeQemuArgs,
  qemuArgv,
  type QemuArgvOptions,
  smp,
} from "../../../hypervisors/qemu/argv.ts";
import type { Accelerator } from "../../../hypervisors/qemu/accel.ts";

const fixtureDir = new URL("../../fixtures/qemu_argv/", import.meta.url).pathname;

interface Fixture {
  case: string;
  packer: string;
  builder: Record<string, unknown>;
  argv: string[];
  logLine: string | null;
}

function loadFixtures(): Fixture[] {
  return [...Deno.readDirSync(fixtureDir)]
    .filter((e) => e.name.endsWith(".json"))
    .map((e) => JSON.parse(Deno.readTextFileSync(fixtureDir + e.name)) as Fixture)
    .sort((a, b) => a.case.localeCompare(b.case));
}

/** Switch → values, as qemu reads them (a value never starts with "-" in these fixtures). */
function bySwitch(argv: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    assert.ok(key.startsWith("-"), `expected a switch at ${i}: ${key}`);
    out[key] ??= [];
    if (i + 1 < argv.length && !argv[i + 1].startsWith("-")) out[key].push(argv[++i]);
  }
  return out;
}

/** Values Packer chose at run time, read back from its argv: ports, temp files. */
function runtimeValues(b: Record<string, unknown>, packer: Record<string, string[]>) {
  const vnc = packer["-vnc"][0].match(/:(\d+)(,password)?$/)!;
  const fwd = (packer["-netdev"]?.[0] ?? "").match(/^user,id=user\.0,hostfwd=tcp::(\d+)-:(\d+)$/);
  return {
    // Packer 1.6.6 writes the display as port - vnc_port_min (see packerToKiln).
    vncPort: Number(b.vnc_port_min ?? 5900) + Number(vnc[1]),
    communicator: fwd ? { hostPort: Number(fwd[1]), guestPort: Number(fwd[2]) } : undefined,
  };
}

/** The template's builder, with Packer's defaults, as kiln's argv options. */
function optionsFor(b: Record<string, unknown>, packer: Record<string, string[]>): QemuArgvOptions {
  const vmName = (b.vm_name as string) ?? "packer-qemu";
  const outputDir = (b.output_directory as string) ?? "output-qemu";
  const additional = (b.disk_additional_size as string[] | undefined) ?? [];
  const memory = Number(b.memory ?? 0);
  const runtime = runtimeValues(b, packer);
  const format = (b.format as string) ?? "qcow2";
  return {
    vmName,
    machineType: (b.machine_type as string) ?? "pc",
    // This machine's /dev/kvm opens, so Packer's default was kvm.
    accelerator: ((b.accelerator as string) ?? "kvm") as Accelerator,
    memoryMiB: memory < 10 ? 512 : memory,
    smp: { cpus: Number(b.cpus ?? 0) },
    diskImage: b.disk_image === true,
    disks: [
      `${outputDir}/${vmName}`,
      ...additional.map((_, i) => `${outputDir}/${vmName}-${i + 1}`),
    ],
    format,
    diskInterface: (b.disk_interface as string) ?? "virtio",
    diskCache: (b.disk_cache as string) ?? "writeback",
    diskDiscard: (b.disk_discard as string) ?? "ignore",
    detectZeroes: (b.disk_detect_zeroes as string) ?? "off",
    netDevice: (b.net_device as string) ?? "virtio-net",
    isoPath: b.iso_url as string,
    cdPath: b.cd_files ? "$CD_ISO" : undefined,
    cdromInterface: (b.cdrom_interface as string) ?? "",
    floppyPath: b.floppy_files ? "$FLOPPY" : undefined,
    communicator: b.communicator === "none" ? undefined : runtime.communicator,
    vnc: {
      bindAddress: (b.vnc_bind_address as string) ?? "127.0.0.1",
      port: runtime.vncPort,
      password: b.vnc_use_password === true,
    },
    headless: b.headless === true,
    display: b.display as string | undefined,
    useDefaultDisplay: b.use_default_display === true,
    qmpSocket: b.qmp_socket_path as string | undefined ??
      (b.qmp_enable || b.vnc_use_password ? `${outputDir}/${vmName}.monitor` : undefined),
    qemuargs: b.qemuargs as string[][] | undefined,
  };
}

/**
 * Packer 1.6.6's argv rewritten where kiln deliberately differs:
 * 1. the communicator's hostfwd binds 127.0.0.1, not every interface;
 * 2. `-vnc` gets display `port - 5900` (1.6.6 wrote `port - vnc_port_min`,
 *    a display qemu then listens on that is not the port Packer connects
 *    to; current Packer fixed it) and `password=on` (qemu deprecates the
 *    bare `password`);
 * 3. `-smp` is always written, as current Packer does: the cpu count, and
 *    the topology when given (1.6.6: nothing for 1 cpu, else
 *    `cpus=N,sockets=N`). A template's own `-smp` is left alone.
 * 4. virtio-scsi CD-ROMs are numbered after the virtio-scsi disks, as
 *    current Packer does: 1.6.6's `index=<n-th CD>` collides with the first
 *    disk (qemu: "drive with bus=0, unit=0 (index=0) exists").
 */
function packerToKiln(
  b: Record<string, unknown>,
  packer: Record<string, string[]>,
): Record<string, string[]> {
  const out = structuredClone(packer);
  const givenSwitches = new Set(((b.qemuargs as string[][]) ?? []).map((r) => r[0]));
  if (!givenSwitches.has("-netdev")) {
    out["-netdev"] = out["-netdev"].map((v) =>
      v.replace(/^user,id=user\.0,hostfwd=tcp::/, "user,id=user.0,hostfwd=tcp:127.0.0.1:")
    );
  }
  if (!givenSwitches.has("-vnc")) {
    const port = runtimeValues(b, packer).vncPort;
    out["-vnc"] = out["-vnc"].map((v) =>
      v.replace(/:\d+(,password)?$/, (_, pw) => `:${port - 5900}${pw ? ",password=on" : ""}`)
    );
  }
  if (b.cdrom_interface === "virtio-scsi" && !givenSwitches.has("-drive")) {
    const scsiDisks = b.disk_interface === "virtio-scsi"
      ? 1 + ((b.disk_additional_size as string[] | undefined)?.length ?? 0)
      : 0;
    out["-drive"] = out["-drive"].map((v) =>
      v.replace(
        /,if=none,index=(\d+),id=cdrom(\d+),/,
        (_, _i, n) => `,if=none,index=${scsiDisks + Number(n)},id=cdrom${n},`,
      )
    );
  }
  if (!givenSwitches.has("-smp")) {
    const cpus = Number(b.cpus ?? 0);
    out["-smp"] = [cpus > 1 ? String(cpus) : "1"];
  }
  return out;
}

for (const fixture of loadFixtures()) {
  Deno.test(`argv as Packer ${fixture.packer.replace("Packer ", "")}: ${fixture.case}`, () => {
    const packer = bySwitch(fixture.argv);
    const kiln = bySwitch(qemuArgv(optionsFor(fixture.builder, packer)));
    assert.deepEqual(sortKeys(kiln), sortKeys(packerToKiln(fixture.builder, packer)));
  });
}

Deno.test("the fixtures' argv is the argv Packer logged", () => {
  for (const fixture of loadFixtures()) {
    assert.ok(fixture.logLine, `${fixture.case}: Packer logged no "Executing" line`);
    const logged = JSON.parse(
      fixture.logLine.replace(/^Executing [^:]+: \[\]string\{/, "[").replace(/\}$/, "]"),
    );
    assert.deepEqual(logged, fixture.argv, fixture.case);
  }
});

/** A TCP port on 127.0.0.1 free right now (at least `min`). */
function freePort(min = 1024): number {
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (port >= min) return port;
  }
}

function sortKeys(o: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

const minimal: QemuArgvOptions = {
  vmName: "vm",
  machineType: "q35",
  accelerator: "tcg",
  memoryMiB: 1024,
  diskImage: true,
  disks: ["out/vm"],
  format: "qcow2",
  diskInterface: "virtio",
  diskCache: "writeback",
  diskDiscard: "ignore",
  detectZeroes: "off",
  netDevice: "virtio-net",
  vnc: { bindAddress: "127.0.0.1", port: 5901, password: false },
  headless: true,
};

Deno.test("qemuargs: a switch given replaces its default, rows join, empty values stand alone", () => {
  const argv = qemuArgv({
    ...minimal,
    qemuargs: [
      ["-m", "2048M"],
      ["-netdev", "user,id=n0,", "hostfwd=tcp::2222-:22", ""],
      ["-drive", "file=one.img"],
      ["-drive", "file=two.img"],
      ["--no-acpi", ""],
      ["-nographic"],
      ["-device", "e1000,netdev=n0"],
    ],
  });
  // deno-fmt-ignore
  assert.deepEqual(argv, [
    "-boot", "c",
    "-name", "vm",
    "-machine", "type=q35,accel=tcg",
    "-netdev", "user,id=n0,hostfwd=tcp::2222-:22",
    "-vnc", "127.0.0.1:1",
    "-m", "2048M",
    "-smp", "1",
    "-device", "e1000,netdev=n0",
    "-device", "virtio-net,netdev=user.0",
    "-drive", "file=one.img",
    "-drive", "file=two.img",
    "--no-acpi",
    "-nographic",
  ]);
});

Deno.test("qemuargs: -device mentioning the net device keeps it from being added again", () => {
  const merged = mergeQemuArgs(
    defaultArgs(minimal),
    [["-device", "virtio-net-pci,netdev=user.0"]],
    "virtio-net",
  );
  assert.deepEqual(merged.get("-device"), ["virtio-net-pci,netdev=user.0"]);
});

Deno.test("EFI, firmware, cpu model, VGA and vTPM as current Packer writes them", () => {
  const efi = qemuArgv({
    ...minimal,
    cpuModel: "host",
    vga: "virtio",
    efi: { code: "/usr/share/OVMF/OVMF_CODE.fd", vars: "out/efivars.fd" },
    vtpm: { socketPath: "/run/kiln/swtpm.sock", deviceType: "tpm-tis" },
  });
  const s = bySwitch(efi);
  assert.equal(s["-boot"], undefined, "EFI boots by its own variables: no -boot");
  assert.deepEqual(s["-cpu"], ["host"]);
  assert.deepEqual(s["-vga"], ["virtio"]);
  assert.deepEqual(s["-chardev"], ["socket,id=vtpm,path=/run/kiln/swtpm.sock"]);
  assert.deepEqual(s["-tpmdev"], ["emulator,id=tpm0,chardev=vtpm"]);
  assert.deepEqual(s["-device"], ["virtio-net,netdev=user.0", "tpm-tis,tpmdev=tpm0"]);
  assert.deepEqual(s["-drive"], [
    "file=out/vm,if=virtio,cache=writeback,discard=ignore,format=qcow2",
    "file=/usr/share/OVMF/OVMF_CODE.fd,if=pflash,unit=0,format=raw,readonly=on",
    "file=out/efivars.fd,if=pflash,unit=1,format=raw",
  ]);
  assert.deepEqual(bySwitch(qemuArgv({ ...minimal, firmware: "/fw.bin" }))["-bios"], ["/fw.bin"]);
  const pflash = bySwitch(qemuArgv({ ...minimal, firmware: "/fw.bin", usePflash: true }));
  assert.equal(pflash["-bios"], undefined);
  assert.equal(pflash["-drive"].at(-1), "file=/fw.bin,if=pflash,format=raw,readonly=on");
});

Deno.test("-smp as current Packer computes it from cpus and the topology", () => {
  assert.equal(smp({}), "1");
  assert.equal(smp({ cpus: 4 }), "4");
  assert.equal(smp({ sockets: 2, cores: 2 }), "4,sockets=2,cores=2");
  assert.equal(smp({ cpus: 8, sockets: 1, cores: 2, threads: 2 }), "4,sockets=1,cores=2,threads=2");
  assert.equal(smp({ cpus: 2, cores: 4 }), "2,cores=4");
  assert.equal(smp({ threads: 2 }), "2,threads=2");
});

Deno.test("virtio-scsi CD-ROMs are numbered after the virtio-scsi disks; a comma in a path is doubled", () => {
  const s = bySwitch(qemuArgv({
    ...minimal,
    diskImage: false,
    disks: ["out/a,b.qcow2"],
    diskInterface: "virtio-scsi",
    cdromInterface: "virtio-scsi",
    isoPath: "/isos/x.iso",
  }));
  assert.deepEqual(s["-drive"], [
    "if=none,file=out/a,,b.qcow2,id=drive0,cache=writeback,discard=ignore,format=qcow2",
    "file=/isos/x.iso,if=none,index=1,id=cdrom0,media=cdrom",
  ]);
  assert.deepEqual(s["-device"], [
    "virtio-scsi-pci,id=scsi0",
    "scsi-hd,bus=scsi0.0,drive=drive0",
    "virtio-net,netdev=user.0",
    "virtio-scsi-device",
    "scsi-cd,drive=cdrom0",
  ]);
  assert.deepEqual(s["-boot"], ["once=d"]);
});

Deno.test("qemu accepts the argv kiln builds (paused, then quit)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiln-argv-" });
  try {
    const disk = `${dir}/disk,1.qcow2`;
    const img = await new Deno.Command("qemu-img", {
      args: ["create", "-f", "qcow2", disk, "16M"],
      stdout: "null",
    }).output();
    assert.ok(img.success);
    await Deno.writeTextFile(`${dir}/cd.iso`, "");
    const args = qemuArgv({
      ...minimal,
      machineType: "pc",
      diskImage: false,
      disks: [disk],
      isoPath: `${dir}/cd.iso`,
      detectZeroes: "unmap",
      diskDiscard: "unmap",
      communicator: { hostPort: freePort(), guestPort: 22 },
      vnc: { bindAddress: "127.0.0.1", port: freePort(5900), password: true },
      smp: { cpus: 2, sockets: 1, cores: 2 },
      qemuargs: [["-S"], ["-display", "none"]],
    });
    const out = await new Deno.Command("qemu-system-x86_64", {
      args: [...args, "-qmp", "stdio"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = out.stdin.getWriter();
    await w.write(new TextEncoder().encode('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n'));
    await w.close();
    const result = await out.output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.doesNotMatch(stderr, /deprecated/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
