/**
 * More of Packer's qemu options, end to end against real qemu: a VNC
 * password (the boot command is typed through VNC authentication, and the
 * password is on no command line and in no log), disk compression, a
 * `use_backing_file` overlay on the disk image, and a floppy.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { diskBuilder, events, isoBuilder, onlyRun, qemuPidsOfRun, withQemuLab } from "./lab.ts";
import { checkImage, imageInfo } from "../../../hypervisors/qemu/img.ts";

Deno.test("qemu: vnc_use_password types through VNC authentication; disk_compression compresses", async () => {
  await withQemuLab(async (lab) => {
    const password = "kiln-vnc-" + crypto.randomUUID().slice(0, 6);
    const file = await lab.template(
      isoBuilder(lab.guest, {
        vm_name: "fast.qcow2",
        vnc_use_password: true,
        vnc_password: password,
        disk_compression: true,
        boot_command: ["kiln kiln.install=vda kiln.token=through-vnc-auth<enter>"],
      }),
      { provisioners: [{ type: "shell", inline: ["cat /run/kiln/cmdline"] }] },
    );
    const out = await lab.build([file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /kiln\.token=through-vnc-auth/, "the typed line arrived");
    const runId = onlyRun(lab.home);
    const logged = await events(lab.home, runId);
    const argv = logged.find((e) => e.type === "VmStarted")!.data.argv as string[];
    assert.ok(argv.some((a) => a.includes("password=on")), "qemu asks for a VNC password");
    assert.ok(!argv.join(" ").includes(password), "the password is not on qemu's command line");
    const log = await Deno.readTextFile(join(lab.home, "runs", runId, "events.jsonl"));
    assert.ok(!log.includes(password), "the password is not in the log");
    assert.ok(!(out.stdout + out.stderr).includes(password), "nor in the output");
    const image = join(lab.dir, "out", "fast.qcow2");
    const check = await checkImage(image);
    assert.ok(check.ok, JSON.stringify(check.raw));
    assert.ok(Number(check.raw["compressed-clusters"]) > 0, "clusters are compressed");
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});

Deno.test("qemu: use_backing_file makes an overlay on the disk image; a floppy is attached", async () => {
  await withQemuLab(async (lab) => {
    await Deno.writeTextFile(join(lab.dir, "answers.cfg"), "d-i debian-installer/locale en_US\n");
    const file = await lab.template(
      diskBuilder(lab.guest, {
        vm_name: "overlay.qcow2",
        use_backing_file: true,
        disk_size: "128M",
        floppy_files: ["answers.cfg"],
        floppy_content: { "meta.txt": "inline\n" },
      }),
      { provisioners: [{ type: "shell", inline: ["echo in the overlay > /tmp/x"] }] },
    );
    const out = await lab.build([file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const info = await imageInfo(join(lab.dir, "out", "overlay.qcow2"));
    assert.equal(info.backingFilename, lab.guest.qcow2Disk, "an overlay on the source image");
    assert.equal(info.virtualSize, 128 * 1024 * 1024);
    assert.match(out.stdout, /Copied to floppy: answers\.cfg/);
    assert.match(out.stdout, /Copied to floppy: meta\.txt/);
    const runId = onlyRun(lab.home);
    const argv = (await events(lab.home, runId)).find((e) => e.type === "VmStarted")!.data
      .argv as string[];
    const fda = argv[argv.indexOf("-fda") + 1];
    assert.match(fda, /floppy\.img$/, "the floppy is attached");
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});

Deno.test("qemu: efi_boot runs OVMF from pflash with the build's own vars, kept in the artifact", async () => {
  await withQemuLab(async (lab) => {
    const file = await lab.template(
      diskBuilder(lab.guest, {
        efi_boot: true,
        // No guest to reach: the VM is halted after boot_wait, as Packer halts it.
        communicator: "none",
        shutdown_command: "",
        format: "raw",
      }),
    );
    const out = await lab.build([file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /Halting the virtual machine/);
    const runId = onlyRun(lab.home);
    const argv = (await events(lab.home, runId)).find((e) => e.type === "VmStarted")!.data
      .argv as string[];
    const drives = argv.filter((_, i) => argv[i - 1] === "-drive");
    assert.ok(
      drives.some((d) => d.includes("if=pflash") && d.includes("OVMF_CODE.fd")),
      "OVMF code from pflash",
    );
    const vars = join(lab.dir, "out", "efivars.fd");
    assert.ok(drives.some((d) => d.includes("if=pflash") && d.includes(vars)), "the build's vars");
    assert.equal(
      (await Deno.stat(vars)).size,
      (await Deno.stat("/usr/share/OVMF/OVMF_VARS.fd")).size,
    );
    assert.match(out.stdout, /VM files in directory: out/);
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});
