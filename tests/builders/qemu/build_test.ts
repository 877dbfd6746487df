/**
 * The qemu builder end to end, against a real qemu (TCG) and the fast test
 * guest: an ISO install driven by a boot command typed over VNC, files
 * served over HTTP, SSH provisioning, shutdown and a compacted qcow2; a
 * disk image booted with a cloud-init seed on a CD, raw output, an extra
 * disk. Each build must leave its image and nothing else running.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  diskBuilder,
  events,
  exists,
  isoBuilder,
  onlyRun,
  qemuPidsOfRun,
  withQemuLab,
} from "./lab.ts";
import { imageInfo } from "../../../hypervisors/qemu/img.ts";

Deno.test("qemu: an ISO typed into over VNC installs, serves HTTP, provisions over SSH and leaves a qcow2", async () => {
  await withQemuLab(async (lab) => {
    const token = crypto.randomUUID().slice(0, 8);
    const file = await lab.template(
      isoBuilder(lab.guest, {
        vm_name: "fast.qcow2",
        boot_command: [
          `kiln kiln.install=vda kiln.token=${token} `,
          "kiln.fetch=http://{{ .HTTPIP }}:{{ .HTTPPort }}/greeting<enter>",
        ],
        http_content: { "/greeting": `served to ${token}\n` },
      }),
      {
        provisioners: [
          {
            type: "shell",
            // The URL the boot command carried, fetched now that the guest's network is up
            // (a boot-time fetch can lose the race with DHCP on a loaded machine).
            inline: [
              "url=$(sed -n 's/.*kiln.fetch=\\([^ ]*\\).*/\\1/p' /run/kiln/cmdline)",
              'cat /run/kiln/cmdline > /tmp/seen; wget -qO- "$url" >> /tmp/seen',
            ],
          },
          { type: "file", direction: "download", source: "/tmp/seen", destination: "seen.txt" },
          { type: "shell", inline: ['echo "http=$PACKER_HTTP_ADDR"'] },
        ],
      },
    );
    const out = await lab.build([file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const seen = await Deno.readTextFile(join(lab.dir, "seen.txt"));
    assert.match(seen, new RegExp(`kiln.token=${token}`), "the typed line reached the guest");
    assert.match(seen, /kiln\.fetch=http:\/\/10\.0\.2\.2:\d+\/greeting/, "HTTPIP/HTTPPort typed");
    assert.match(seen, new RegExp(`served to ${token}`), "the guest fetched http_content");
    assert.match(out.stdout, /http=10\.0\.2\.2:\d+/, "PACKER_HTTP_ADDR is the guest's view");
    const disk = join(lab.dir, "out", "fast.qcow2");
    const info = await imageInfo(disk);
    assert.equal(info.format, "qcow2");
    assert.equal(info.virtualSize, 100 * 1024 * 1024);
    // The guest wrote its 41 MiB system onto the disk; compaction kept the data.
    assert.ok((info.actualSize ?? 0) > 10 * 1024 * 1024, `only ${info.actualSize} bytes on disk`);
    assert.deepEqual([...Deno.readDirSync(join(lab.dir, "out"))].map((e) => e.name), [
      "fast.qcow2",
    ]);
    assert.match(out.stdout, /--> qemu: VM files in directory: out/);
    const runId = onlyRun(lab.home);
    const types = (await events(lab.home, runId)).map((e) => e.type);
    for (const t of ["VmStarted", "BootCommandTyped", "CommunicatorConnected"]) {
      assert.ok(types.includes(t), `${t} logged`);
    }
    assert.deepEqual(qemuPidsOfRun(runId), [], "no qemu left running");
    assert.ok(
      !exists(join(lab.home, "runs", runId, "work")) ||
        [...Deno.readDirSync(join(lab.home, "runs", runId, "work"))].length === 0,
      "the work directory is gone",
    );
  });
});

Deno.test("qemu: a disk image with a cloud-init seed on a CD, raw output, an extra disk and http_directory", async () => {
  await withQemuLab(async (lab) => {
    const key = join(lab.dir, "seed_key");
    const keygen = await new Deno.Command("ssh-keygen", {
      args: ["-q", "-t", "ed25519", "-N", "", "-f", key],
    }).output();
    assert.equal(keygen.code, 0);
    const publicKey = (await Deno.readTextFile(`${key}.pub`)).trim();
    await Deno.mkdir(join(lab.dir, "www"));
    await Deno.writeTextFile(join(lab.dir, "www", "payload.txt"), "from http_directory\n");
    const file = await lab.template(
      diskBuilder(lab.guest, {
        format: "raw",
        vm_name: "fast.raw",
        disk_additional_size: ["16M"],
        // Only the seed authorises this key: connecting proves the CD was read.
        ssh_private_key_file: key,
        cd_label: "cidata",
        cd_content: {
          "meta-data": "instance-id: kiln-test\n",
          "user-data": `#cloud-config\nssh_authorized_keys:\n  - ${publicKey}\n`,
        },
        http_directory: "www",
      }),
      {
        provisioners: [{
          type: "shell",
          inline: [
            'wget -qO- "http://$PACKER_HTTP_ADDR/payload.txt"',
            "echo vdb=$(cat /sys/block/vdb/size)",
          ],
        }],
      },
    );
    const out = await lab.build([file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /from http_directory/);
    assert.match(out.stdout, /vdb=32768/, "the additional 16M disk is attached");
    assert.match(out.stdout, /Waiting 1s for boot\.\.\./, "boot_wait holds with nothing to type");
    const names = [...Deno.readDirSync(join(lab.dir, "out"))].map((e) => e.name).sort();
    assert.deepEqual(names, ["fast.raw", "fast.raw-1"]);
    const info = await imageInfo(join(lab.dir, "out", "fast.raw"));
    assert.equal(info.format, "raw");
    assert.equal(info.virtualSize, 64 * 1024 * 1024, "grown to disk_size");
    assert.deepEqual(qemuPidsOfRun(onlyRun(lab.home)), []);
  });
});
