/**
 * The smallest guest that honours an ACPI power-off: Debian's cloud kernel
 * with an initramfs of busybox and two modules (evdev, button). Its /init
 * says `KILN-GUEST-READY` on the serial port, waits for the power button
 * and powers off — what `system_powerdown` asks of a real OS. Built from the
 * host's packages (linux-image-cloud-amd64, busybox-static) in a second.
 */

/** Kernel, initrd and the qemu arguments that boot them. */
export interface PowerButtonGuest {
  kernel: string;
  initrd: string;
  /** qemu arguments (TCG, serial to `serialLog`, exits on power-off). */
  args(serialLog: string): string[];
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /evdev.ko
insmod /button.ko
for e in /sys/class/input/event*; do
  if grep -q "Power Button" "$e/device/name" 2>/dev/null; then button=/dev/input/\${e##*/}; fi
done
# Opened before READY: an event device keeps events only for readers it has, and a power-off
# asked for right after READY would otherwise be lost.
exec 3< "$button"
echo "KILN-GUEST-READY button=$button"
head -c 1 <&3 >/dev/null
echo "KILN-GUEST-POWERING-OFF"
poweroff -f
`;

/** The newest cloud kernel under /boot that has its modules installed. */
export function hostCloudKernel(): { kernel: string; version: string } {
  const versions: string[] = [];
  for (const e of Deno.readDirSync("/boot")) {
    const m = e.name.match(/^vmlinuz-(.+-cloud-amd64)$/);
    if (m) versions.push(m[1]);
  }
  versions.sort();
  const version = versions.at(-1);
  if (!version) {
    throw new Error("no /boot/vmlinuz-*-cloud-amd64: apt-get install linux-image-cloud-amd64");
  }
  return { kernel: `/boot/vmlinuz-${version}`, version };
}

/** Builds the guest's initrd in `dir`. */
export async function powerButtonGuest(dir: string): Promise<PowerButtonGuest> {
  const { kernel, version } = hostCloudKernel();
  const root = `${dir}/initrd-root`;
  await Deno.mkdir(`${root}/bin`, { recursive: true });
  await Deno.copyFile("/usr/bin/busybox", `${root}/bin/busybox`); // busybox-static
  const modules = `/lib/modules/${version}/kernel/drivers`;
  await Deno.copyFile(`${modules}/input/evdev.ko`, `${root}/evdev.ko`);
  await Deno.copyFile(`${modules}/acpi/button.ko`, `${root}/button.ko`);
  await Deno.writeTextFile(`${root}/init`, INIT, { mode: 0o755 });
  const initrd = `${dir}/initrd.gz`;
  const { code, stderr } = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"',
      "sh",
      root,
      initrd,
    ],
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`building the initrd failed: ${new TextDecoder().decode(stderr)}`);
  }
  return {
    kernel,
    initrd,
    args: (serialLog) => [
      "-machine",
      "type=pc,accel=tcg",
      "-nodefaults",
      "-display",
      "none",
      "-m",
      "128",
      "-serial",
      `file:${serialLog}`,
      "-kernel",
      kernel,
      "-initrd",
      initrd,
      "-append",
      "console=ttyS0 panic=-1",
      "-no-reboot",
    ],
  };
}

/** Waits until `pattern` shows in the file; returns the ms waited. */
export async function waitForFileText(
  path: string,
  pattern: RegExp,
  timeoutMs: number,
): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      if (pattern.test(await Deno.readTextFile(path))) return performance.now() - start;
    } catch {
      // Not created yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${pattern} did not appear in ${path} within ${timeoutMs} ms`);
}
