/**
 * The whole test suite in one command (`deno task test`): installs the Debian
 * packages the integration tests drive (a real sshd, ...) when they are
 * missing, runs `deno test`, and ends with the totals alone on a line as
 * `N passed, M failed` for CI.
 */
import { exists } from "../runtime/fs.ts";

const packages: { pkg: string; probe: string }[] = [
  { pkg: "openssh-server", probe: "/usr/sbin/sshd" },
  { pkg: "openssh-client", probe: "/usr/bin/ssh-keygen" },
  { pkg: "unzip", probe: "/usr/bin/unzip" },
  { pkg: "lz4", probe: "/usr/bin/lz4" },
  // compress writes .xz and .tar.xz through the system xz.
  { pkg: "xz-utils", probe: "/usr/bin/xz" },
  { pkg: "python3-winrm", probe: "/usr/lib/python3/dist-packages/winrm/__init__.py" },
  { pkg: "faketime", probe: "/usr/bin/faketime" },
  // The qemu adapters' tests: qemu, qemu-img/qemu-io, media tools, and a tiny guest built from host packages.
  { pkg: "qemu-system-x86", probe: "/usr/bin/qemu-system-x86_64" },
  { pkg: "qemu-utils", probe: "/usr/bin/qemu-img" },
  { pkg: "xorriso", probe: "/usr/bin/xorriso" },
  { pkg: "mtools", probe: "/usr/bin/mcopy" },
  { pkg: "linux-image-cloud-amd64", probe: "/usr/share/doc/linux-image-cloud-amd64" },
  { pkg: "busybox-static", probe: "/bin/busybox" },
  { pkg: "cpio", probe: "/usr/bin/cpio" },
  { pkg: "binutils", probe: "/usr/bin/ld" },
  // The vagrant post-processor's tests add the boxes they make to the real Vagrant.
  { pkg: "vagrant", probe: "/usr/bin/vagrant" },
  // The ansible and ansible-local provisioners' tests: the real ansible-playbook.
  { pkg: "ansible", probe: "/usr/bin/ansible-playbook" },
  // efi_boot's firmware.
  { pkg: "ovmf", probe: "/usr/share/OVMF/OVMF_CODE.fd" },
  // Packer 1.6.6, the reference: many tests compare kiln's answers with its own, in the same run.
  { pkg: "packer", probe: "/usr/bin/packer" },
  // runs show --html: the page is screenshotted and its DOM dumped in headless Chromium.
  { pkg: "chromium", probe: "/usr/bin/chromium" },
];

const missing: string[] = [];
for (const { pkg, probe } of packages) if (!(await exists(probe))) missing.push(pkg);
if (missing.length > 0) {
  console.error(`installing Debian packages the tests need: ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (
    const args of [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", ...missing]]
  ) {
    const { code } = await new Deno.Command(args[0], { args: args.slice(1), env }).output();
    if (code !== 0) {
      console.error(`${args.join(" ")} failed (exit ${code}); run it as root and retry`);
      Deno.exit(1);
    }
  }
}

const filter = Deno.args;
// Run keys and seals of the suite's thousands of runs stay out of the user's state directory.
const sealDir = await Deno.makeTempDir({ prefix: "kiln-test-seals-" });
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", "--parallel", ...filter],
  env: { NO_COLOR: "1", KILN_SEAL_DIR: sealDir },
  stdout: "piped",
  stderr: "inherit",
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const { code } = await child.status;
await Deno.remove(sealDir, { recursive: true }).catch(() => {});
const summary = tail.match(/^(?:ok|FAILED) \| (\d+) passed(?: \([^)]*\))? \| (\d+) failed/m);
const passed = summary ? Number(summary[1]) : 0;
const failed = summary ? Number(summary[2]) : (code === 0 ? 0 : 1);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
