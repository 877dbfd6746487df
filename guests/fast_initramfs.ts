/**
 * The fast guest's whole userland as one initramfs: static busybox (init,
 * shell, udhcpc, wget), dropbear with the glibc libraries it links, a few
 * kernel modules, and the scripts in `fast_root/`.
 */
import { gzipSync } from "node:zlib";
import { run } from "./command.ts";
import { type CpioEntry, cpioNewc } from "./cpio_newc.ts";
import type { KernelModule } from "./kernel_modules.ts";

/** The files under fast_root/, copied into the initramfs as they are. */
export const fastRootDir = new URL("./fast_root/", import.meta.url);

/** Everything dropbear and dropbearkey load at run time (checked at build time). */
const dropbearLibraries = [
  "libc.so.6",
  "libcrypt.so.1",
  "libz.so.1",
  "libtomcrypt.so.1",
  "libtommath.so.1",
  "libgmp.so.10",
];
const libDir = "lib/x86_64-linux-gnu";
const loader = "ld-linux-x86-64.so.2";

/** Inputs of {@link buildFastInitramfs}. */
export interface FastInitramfsInputs {
  /** Directory the guest's .deb packages were unpacked into. */
  unpacked: string;
  /** The kernel's modules directory inside `unpacked`. */
  modulesDir: string;
  /** Modules to load at boot, in order. */
  modules: KernelModule[];
  /** The key pair's public line authorised for root in every boot. */
  bakedPublicKey: string;
}

async function findLibrary(unpacked: string, name: string): Promise<string> {
  for (const dir of [libDir, `usr/${libDir}`]) {
    try {
      return await Deno.realPath(`${unpacked}/${dir}/${name}`);
    } catch { /* try the next directory */ }
  }
  throw new Error(`${name} is in none of the unpacked packages under ${unpacked}`);
}

async function rootFiles(): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const walk = async (rel: string) => {
    const names = [];
    for await (const e of Deno.readDir(new URL(rel, fastRootDir))) names.push(e);
    names.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of names) {
      const path = `${rel}${e.name}`;
      if (e.isDirectory) await walk(`${path}/`);
      else {
        const url = new URL(path, fastRootDir);
        const executable = ((await Deno.stat(url)).mode ?? 0) & 0o111;
        entries.push({
          kind: "file",
          path,
          data: await Deno.readFile(url),
          mode: executable ? 0o755 : 0o644,
        });
      }
    }
  };
  await walk("");
  return entries;
}

const directories = [
  "bin dev etc etc/dropbear etc/kiln home lib lib/modules lib64 proc root run sbin sys tmp",
  `usr usr/bin usr/sbin var var/log ${libDir}`,
].join(" ").split(" ");

/** Returns the gzip-compressed initramfs for the fast guest. */
export async function buildFastInitramfs(inputs: FastInitramfsInputs): Promise<Uint8Array> {
  const { unpacked } = inputs;
  const entries: CpioEntry[] = directories.map((path) => ({ kind: "dir", path }));
  const file = (path: string, data: Uint8Array, mode = 0o644) =>
    entries.push({ kind: "file", path, data, mode });
  const text = (value: string) => new TextEncoder().encode(value);

  file("bin/busybox", await Deno.readFile(`${unpacked}/bin/busybox`), 0o755);
  for (const applet of (await run(`${unpacked}/bin/busybox`, ["--list-full"])).trim().split("\n")) {
    if (applet !== "bin/busybox") {
      entries.push({ kind: "symlink", path: applet, target: "/bin/busybox" });
    }
  }
  // The kernel runs /init; busybox picks its init applet from that name.
  entries.push({ kind: "symlink", path: "init", target: "/bin/busybox" });

  // scp links libc alone; dropbear runs it for `scp -t` (uploads) and `scp -f`.
  for (const program of ["usr/sbin/dropbear", "usr/bin/dropbearkey", "usr/bin/scp"]) {
    file(program, await Deno.readFile(`${unpacked}/${program}`), 0o755);
  }
  for (const name of [loader, ...dropbearLibraries]) {
    file(`${libDir}/${name}`, await Deno.readFile(await findLibrary(unpacked, name)), 0o755);
  }
  entries.push({ kind: "symlink", path: `lib64/${loader}`, target: `/${libDir}/${loader}` });

  for (const module of inputs.modules) {
    file(
      `lib/modules/${module.name}.ko`,
      await Deno.readFile(`${inputs.modulesDir}/${module.path}`),
    );
  }
  file("etc/kiln/modules", text(inputs.modules.map((m) => m.name).join("\n") + "\n"));
  file("etc/kiln/authorized_keys", text(inputs.bakedPublicKey + "\n"));
  // Last, so they replace busybox links of the same name.
  entries.push(...await rootFiles());
  await checkDropbearRuns(unpacked);
  return gzipSync(cpioNewc(entries), { level: 9 });
}

/** Runs the unpacked dropbear through the unpacked loader and libraries: a missing library fails the build, not the boot. */
async function checkDropbearRuns(unpacked: string): Promise<void> {
  const libraryPath = [`${unpacked}/${libDir}`, `${unpacked}/usr/${libDir}`].join(":");
  const out = await new Deno.Command(`${unpacked}/${libDir}/${loader}`, {
    args: ["--library-path", libraryPath, `${unpacked}/usr/sbin/dropbear`, "-V"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(out.stderr);
  if (!out.success || !said.includes("Dropbear")) {
    throw new Error(`the unpacked dropbear does not run with the unpacked libraries: ${said}`);
  }
}
