/**
 * A guest that proves which keys reached it: a 512-byte boot sector that
 * prints "KEYECHO READY" on COM1 and then echoes every byte the PS/2
 * controller delivers (scan code set 1: make codes, break codes with bit 7
 * set, 0xE0 before extended keys) as two hex digits and a space. It boots in
 * well under a second under TCG and needs nothing downloaded or built.
 *
 * The bytes below are this source, assembled with
 * `as --32 keyecho.S && ld -m elf_i386 -Ttext 0x7c00 --oformat binary`:
 *
 *       cli                      ; the BIOS keyboard handler must not take bytes first
 *       xor %ax,%ax; mov %ax,%ds; mov %ax,%ss; mov $0x7c00,%sp
 *       mov $banner,%si
 *   1:  lodsb; test %al,%al; jz poll; call putc; jmp 1b
 *   poll:
 *       in $0x64,%al; test $1,%al; jz poll       ; wait for output-buffer-full
 *       in $0x60,%al; mov %al,%bl
 *       shr $4,%al; call hex; mov %bl,%al; and $0x0f,%al; call hex
 *       mov $0x20,%al; call putc; jmp poll
 *   hex: add $0x30,%al; cmp $0x39,%al; jbe putc; add $7,%al
 *   putc:
 *       mov %al,%ah; mov $0x3fd,%dx
 *   2:  in %dx,%al; test $0x20,%al; jz 2b        ; wait for the UART to take a byte
 *       mov %ah,%al; mov $0x3f8,%dx; out %al,%dx; ret
 *   banner: .asciz "KEYECHO READY\r\n"
 *       . = _start + 510; .byte 0x55,0xaa
 */
import { createConnection } from "node:net";

const code =
  "fa31c08ed88ed0bc007cbe4e7cac84c07405e82800ebf6e464a80174fae46088c3c0e804e80e0088d8240fe80700b020e80a00ebe204303c397602040788c4bafd03eca82074fb88e0baf803eec34b45594543484f2052454144590d0a00";

/** The boot sector image. */
export function keyEchoBootSector(): Uint8Array {
  const sector = new Uint8Array(512);
  for (let i = 0; i < code.length; i += 2) sector[i / 2] = parseInt(code.slice(i, i + 2), 16);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** A running key-echo guest with a VNC server on 127.0.0.1. */
export interface KeyEchoGuest {
  vncPort: number;
  /** Scan code bytes the guest has reported so far. */
  scancodes(): Promise<number[]>;
  /** Waits until the guest has reported at least `count` bytes (or the timeout passes). */
  waitForScancodes(count: number, timeoutMs?: number): Promise<number[]>;
  /** A QMP command's `return` value. */
  qmp(command: string, args?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts qemu (TCG, no display) on the key-echo boot sector in `dir`, with
 * its VNC server on a free 127.0.0.1 port, password-protected when asked.
 */
export async function startKeyEchoGuest(
  dir: string,
  options: { vncPassword?: boolean } = {},
): Promise<KeyEchoGuest> {
  const image = `${dir}/keyecho.img`;
  await Deno.writeFile(image, keyEchoBootSector());
  const serial = `${dir}/serial.log`;
  const qmpSocket = `${dir}/qmp.sock`;
  // qemu finds a free display in the range itself; QMP says which it took.
  const vnc = `127.0.0.1:100,to=900${options.vncPassword ? ",password=on" : ""}`;
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [
      "-accel",
      "tcg",
      "-m",
      "32",
      "-display",
      "none",
      "-vnc",
      vnc,
      "-net",
      "none",
      "-qmp",
      `unix:${qmpSocket},server=on,wait=off`,
      "-serial",
      `file:${serial}`,
      "-drive",
      `format=raw,file=${image}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await stderr;
  };
  try {
    const qmp = await connectQmp(qmpSocket, child.status);
    const info = await qmp("query-vnc") as { service?: string };
    const vncPort = Number(info.service);
    const readScancodes = async () => {
      const text = await Deno.readTextFile(serial).catch(() => "");
      const after = text.split("KEYECHO READY\r\n")[1];
      if (after === undefined) return undefined;
      return after.trim().split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16));
    };
    const deadline = Date.now() + 30_000;
    while (await readScancodes() === undefined) {
      if (Date.now() > deadline) throw new Error(`the key-echo guest never printed its banner`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      vncPort,
      scancodes: async () => (await readScancodes()) ?? [],
      async waitForScancodes(count, timeoutMs = 20_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const got = (await readScancodes()) ?? [];
          if (got.length >= count || Date.now() > until) return got;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      qmp,
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(
      `starting the key-echo guest failed: ${e instanceof Error ? e.message : e}\n${await stderr}`,
    );
  }
}

/** A QMP connection good for one command at a time (all a test needs). */
async function connectQmp(
  socket: string,
  exited: Promise<Deno.CommandStatus>,
): Promise<(command: string, args?: Record<string, unknown>) => Promise<unknown>> {
  let gone = false;
  exited.then(() => gone = true);
  const deadline = Date.now() + 15_000;
  let conn: ReturnType<typeof createConnection> | undefined;
  while (!conn) {
    if (gone) throw new Error("qemu exited before its QMP socket opened");
    try {
      await Deno.stat(socket);
      conn = await new Promise((resolve, reject) => {
        const c = createConnection(socket, () => resolve(c));
        c.once("error", reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let partial = "";
  conn.on("data", (chunk: Uint8Array) => {
    partial += new TextDecoder().decode(chunk);
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts.filter((l) => l.trim()));
    waiters.splice(0).forEach((w) => w());
  });
  const nextReply = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      while (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
      const reply = JSON.parse(lines.shift()!);
      if ("return" in reply || "error" in reply || "QMP" in reply) return reply;
    }
  };
  await nextReply();
  const execute = async (command: string, args?: Record<string, unknown>) => {
    conn!.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + "\n");
    const reply = await nextReply();
    if ("error" in reply) throw new Error(`QMP ${command}: ${JSON.stringify(reply.error)}`);
    return reply.return;
  };
  await execute("qmp_capabilities");
  return execute;
}
