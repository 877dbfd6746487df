/**
 * The test guests really boot under qemu TCG: the fast guest from its raw
 * and qcow2 disks, from kernel + initrd, and from its ISO once a boot line is
 * typed on the keyboard; the realistic guest from its disks with a cloud-init
 * NoCloud seed CD. Each boot is proven with OpenSSH's client and ends with a
 * shutdown command inside the guest that makes qemu exit.
 */
import assert from "node:assert/strict";
import {
  bootGuest,
  ensureFastGuest,
  ensureRealisticGuest,
  type GuestHandle,
  makeSeedIso,
} from "../support/guests/mod.ts";
import { alive } from "../support/processes.ts";
import { generateKey } from "../support/sshd.ts";
import { withTempDir } from "../support/temp_dir.ts";

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Boots, runs `fn`, and always stops qemu. */
async function withGuest<T>(
  options: Parameters<typeof bootGuest>[0],
  fn: (guest: GuestHandle) => Promise<T>,
): Promise<T> {
  const guest = await bootGuest(options);
  try {
    return await fn(guest);
  } finally {
    await guest.stop();
  }
}

/** Sends `command` (a shutdown) over SSH and asserts qemu exits cleanly on its own. */
async function assertShutdownEndsQemu(
  guest: GuestHandle,
  login: { user: string; privateKey: string },
  command: string,
): Promise<number> {
  const asked = performance.now();
  // The connection may drop before ssh sees an exit status: what counts is qemu exiting.
  await guest.ssh(login, command);
  const status = await guest.waitForExit(60_000);
  assert.ok(status, `qemu still runs 60 s after \`${command}\``);
  assert.equal(status.code, 0, `qemu exit status after \`${command}\`: ${guest.stderr()}`);
  assert.equal(await alive(guest.pid), false);
  return performance.now() - asked;
}

const userData = (user: string, publicKey: string) =>
  `#cloud-config
users:
  - name: ${user}
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ${publicKey}
write_files:
  - path: /etc/kiln-seeded
    content: "seeded for ${user}\\n"
`;

/** Local addresses of TCP sockets listening on `port` (from /proc/net/tcp and tcp6). */
async function listeners(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (await Deno.readTextFile(file)).split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === "0A" && local?.endsWith(`:${hexPort}`)) found.push(local.split(":")[0]);
    }
  }
  return found;
}

Deno.test("bootGuest: SSH is forwarded from 127.0.0.1 only, QMP answers, stop() ends qemu and tidies up", async () => {
  const fast = await ensureFastGuest();
  const guest = await bootGuest({ iso: fast.iso });
  try {
    await guest.waitForSerial(/boot: /, 30_000, true);
    // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
    assert.deepEqual(await listeners(guest.sshPort), ["0100007F"]);
    const status = await (await guest.qmp()).execute("query-status") as { status: string };
    assert.equal(status.status, "running");
    assert.ok(guest.argv.includes("tcg"), guest.argv.join(" "));
  } finally {
    await guest.stop();
  }
  assert.equal(await alive(guest.pid), false);
  await assert.rejects(Deno.stat(guest.serialLog), Deno.errors.NotFound);
  assert.deepEqual(await listeners(guest.sshPort), []);
});

Deno.test("fast guest: raw disk, qcow2 disk with a seed CD, and kernel + initrd all boot to SSH and power off", () =>
  withTempDir(async (dir) => {
    const fast = await ensureFastGuest();
    const fresh = await generateKey(dir, "fresh");
    await makeSeedIso(`${dir}/seed.iso`, { userData: userData("ignored", fresh.publicKey) });
    const baked = { user: "root", privateKey: fast.privateKey };
    const seeded = { user: "root", privateKey: fresh.privateKeyPath };
    const boots = [
      { name: "raw", options: { image: fast.rawDisk }, login: baked },
      {
        name: "qcow2+seed",
        options: { image: fast.qcow2Disk, cdroms: [`${dir}/seed.iso`] },
        login: seeded,
      },
      {
        name: "kernel+initrd",
        options: {
          kernel: fast.kernel,
          initrd: fast.initrd,
          append: `${fast.kernelArgs} kiln.test=direct`,
        },
        login: baked,
      },
    ];
    const before = await Deno.readFile(fast.rawDisk);
    await Promise.all(boots.map(({ name, options, login }) =>
      withGuest(options, async (guest) => {
        const ready = await guest.waitForSerial(/KILN-GUEST-READY ip=10\.0\.2\.15/, 90_000);
        const sshMs = await guest.waitForSsh(login);
        const result = await guest.ssh(login, "uname -r; id -u; ip -4 -o addr show scope global");
        assert.equal(result.code, 0, result.stderr);
        const [kernel, uid, address] = result.stdout.trim().split("\n");
        assert.match(kernel, /-cloud-amd64$/);
        assert.equal(uid, "0");
        assert.match(address, /inet 10\.0\.2\.15\//);
        if (name === "kernel+initrd") {
          assert.match(
            (await guest.ssh(login, "cat /run/kiln/cmdline")).stdout,
            /kiln\.test=direct/,
          );
        }
        const downMs = await assertShutdownEndsQemu(guest, login, "poweroff");
        console.log(
          `fast ${name}: ready line ${seconds(ready.ms)} s, SSH ${
            seconds(sshMs)
          } s, poweroff→exit ${seconds(downMs)} s`,
        );
      })
    ));
    const after = await Deno.readFile(fast.rawDisk);
    assert.ok(before.every((byte, i) => byte === after[i]), "a boot wrote into the cached disk");
  }));

Deno.test("fast guest ISO: waits at boot: until a line is typed, proves what was typed, installs a disk that boots alone", () =>
  withTempDir(async (dir) => {
    const fast = await ensureFastGuest();
    const login = { user: "root", privateKey: fast.privateKey };
    const target = `${dir}/target.qcow2`;
    const created = await new Deno.Command("qemu-img", {
      args: ["create", "-q", "-f", "qcow2", target, "64M"],
    }).output();
    assert.ok(created.success);
    const iso = { iso: fast.iso, image: target, snapshot: false, workDir: `${dir}/vm` };
    await withGuest(iso, async (guest) => {
      const prompt = await guest.waitForSerial(/boot: /, 30_000, true);
      await new Promise((r) => setTimeout(r, 2_000));
      assert.doesNotMatch(await guest.serialText(), /Linux version|KILN-CMDLINE/, "booted untyped");

      // Mixed case, digits and shifted punctuation exercise the whole key map.
      const token = `Tok_${crypto.randomUUID().slice(0, 8)}-A.b/C:9`;
      const typedAt = performance.now();
      await guest.type(`kiln kiln.token=${token} kiln.install=vda\n`);
      const typingMs = performance.now() - typedAt;
      const { match } = await guest.waitForSerial(/KILN-CMDLINE: (.*)/, 60_000);
      assert.ok(match[1].split(" ").includes(`kiln.token=${token}`), match[1]);
      await guest.waitForSerial(/KILN-INSTALLED: \/dev\/vda/, 60_000);
      const sshMs = await guest.waitForSsh(login);
      const file = await guest.ssh(login, "cat /run/kiln/cmdline");
      assert.ok(file.stdout.trim().split(" ").includes(`kiln.token=${token}`), file.stdout);
      await assertShutdownEndsQemu(guest, login, "shutdown -P now");
      console.log(
        `fast ISO: boot: prompt ${seconds(prompt.ms)} s, typing ${seconds(typingMs)} s, ` +
          `installed and SSH ${seconds(sshMs)} s after qemu start`,
      );
    });
    // The disk the typed line installed boots without the ISO and without typing.
    await withGuest({ image: target, workDir: `${dir}/installed` }, async (guest) => {
      await guest.waitForSerial(/KILN-GUEST-READY/, 90_000);
      const cmdline = await guest.ssh(login, "cat /run/kiln/cmdline");
      assert.doesNotMatch(cmdline.stdout, /kiln\.token/);
      await assertShutdownEndsQemu(guest, login, "poweroff");
    });
  }));

Deno.test("fast guest: a kernel-argument key and a file fetched from the host over user-mode networking", () =>
  withTempDir(async (dir) => {
    const fast = await ensureFastGuest();
    const fresh = await generateKey(dir, "fresh");
    const payload = new Uint8Array(256 * 1024);
    // getRandomValues fills at most 64 KiB per call.
    for (let at = 0; at < payload.length; at += 65536) {
      crypto.getRandomValues(payload.subarray(at, at + 65536));
    }
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/payload"
          ? new Response(payload)
          : new Response(null, { status: 404 }),
    );
    try {
      const key = btoa(fresh.publicKey);
      // 10.0.2.2 is the host as qemu's user-mode network shows it to the guest.
      const url = `http://10.0.2.2:${server.addr.port}/payload`;
      const append = `${fast.kernelArgs} kiln.authorized_key=${key} kiln.fetch=${url}`;
      await withGuest({ kernel: fast.kernel, initrd: fast.initrd, append }, async (guest) => {
        const digest = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", payload)),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        const { match } = await guest.waitForSerial(/KILN-FETCH(?:ED|-FAILED): (\S+)/, 90_000);
        assert.equal(match[1], digest);
        const login = { user: "root", privateKey: fresh.privateKeyPath };
        await guest.waitForSsh(login);
        const sum = await guest.ssh(login, "sha256sum /run/kiln/fetched");
        assert.equal(sum.stdout.split(" ")[0], digest);
        await assertShutdownEndsQemu(guest, login, "sudo -S shutdown -P now");
      });
    } finally {
      await server.shutdown();
    }
  }));

for (const format of ["raw", "qcow2"] as const) {
  Deno.test(`realistic guest (${format}): cloud-init takes the NoCloud seed CD, SSH as its user, sudo shutdown ends qemu`, () =>
    withTempDir(async (dir) => {
      const realistic = await ensureRealisticGuest();
      const key = await generateKey(dir, "seed");
      await makeSeedIso(`${dir}/seed.iso`, { userData: userData("kiln", key.publicKey) });
      // qcow2: an overlay 1 GiB larger than the image, as a builder's disk_size makes it;
      // cloud-init's growpart and resizefs must grow the root to match.
      let image = realistic.rawDisk;
      if (format === "qcow2") {
        image = `${dir}/overlay.qcow2`;
        const overlay = await new Deno.Command("qemu-img", {
          args: [
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            realistic.qcow2Disk,
            "-F",
            "qcow2",
            image,
            "3G",
          ],
        }).output();
        assert.ok(overlay.success, new TextDecoder().decode(overlay.stderr));
      }
      const login = { user: "kiln", privateKey: key.privateKeyPath };
      await withGuest(
        { image, snapshot: format === "raw", cdroms: [`${dir}/seed.iso`] },
        async (guest) => {
          // Generous: under a loaded CI machine the realistic guest has needed over 100 s.
          const ready = await guest.waitForSerial(/KILN-GUEST-READY/, 240_000);
          const sshMs = await guest.waitForSsh(login);
          const result = await guest.ssh(
            login,
            "id -un; sudo -n id -u; . /etc/os-release; echo $VERSION_CODENAME; cat /etc/kiln-seeded; " +
              "systemctl is-active ssh; df --output=size -BM / | tail -n 1",
          );
          assert.equal(result.code, 0, result.stderr);
          const lines = result.stdout.trim().split("\n");
          assert.deepEqual(lines.slice(0, 5), [
            "kiln",
            "0",
            "bookworm",
            "seeded for kiln",
            "active",
          ]);
          const rootMiB = parseInt(lines[5]);
          if (format === "raw") assert.ok(rootMiB < 2048, `root ${rootMiB} MiB`);
          else assert.ok(rootMiB > 2600, `root ${rootMiB} MiB: not grown to the 3 GiB disk`);
          const downMs = await assertShutdownEndsQemu(guest, login, "sudo shutdown -P now");
          console.log(
            `realistic ${format}: ready line ${seconds(ready.ms)} s, SSH ${seconds(sshMs)} s, ` +
              `shutdown→exit ${seconds(downMs)} s`,
          );
        },
      );
    }));
}
