import assert from "node:assert/strict";
import { type RfbVersion, VncClient, VncError } from "../../../hypervisors/qemu/vnc.ts";
import { desEcbEncrypt, vncAuthResponse, vncDesKey } from "../../../hypervisors/qemu/vnc_auth.ts";
import { parseBootCommand } from "../../../hypervisors/qemu/boot_command.ts";
import { bootKeySteps, type KeyStep } from "../../../hypervisors/qemu/boot_keys.ts";
import { typeKeySteps } from "../../../hypervisors/qemu/boot_typist.ts";
import { type KeyEchoGuest, startKeyEchoGuest } from "../../support/qemu_key_echo.ts";
import { withTempDir } from "../../support/temp_dir.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("DES: published test vectors", () => {
  // FIPS 81 / "Now is t" and the classic Stallings worked example.
  assert.equal(
    toHex(desEcbEncrypt(hex("0123456789abcdef"), hex("4e6f772069732074"))),
    "3fa40e8a984d4815",
  );
  assert.equal(
    toHex(desEcbEncrypt(hex("133457799bbcdff1"), hex("0123456789abcdef"))),
    "85e813540f0ab405",
  );
  // Two blocks are encrypted independently (ECB).
  assert.equal(
    toHex(desEcbEncrypt(hex("0123456789abcdef"), hex("4e6f7720697320744e6f772069732074"))),
    "3fa40e8a984d48153fa40e8a984d4815",
  );
});

Deno.test("VNC key: bytes bit-reversed, truncated to 8, zero-padded", () => {
  // 'p' = 0x70 = 01110000 -> 00001110 = 0x0e.
  assert.equal(toHex(vncDesKey("p")), "0e00000000000000");
  assert.equal(toHex(vncDesKey("abcdefghij")), toHex(vncDesKey("abcdefgh")));
  assert.equal(vncAuthResponse("secret", new Uint8Array(16)).length, 16);
});

/** Scan code set 1 make codes, by X11 keysym, for the keys the tests type. */
const set1: Record<number, number[]> = {
  0xff08: [0x0e],
  0xffff: [0xe0, 0x53],
  0xff0d: [0x1c],
  0xff1b: [0x01],
  0xff09: [0x0f],
  0x20: [0x39],
  0xff63: [0xe0, 0x52],
  0xff50: [0xe0, 0x47],
  0xff57: [0xe0, 0x4f],
  0xff55: [0xe0, 0x49],
  0xff56: [0xe0, 0x51],
  0xff52: [0xe0, 0x48],
  0xff54: [0xe0, 0x50],
  0xff51: [0xe0, 0x4b],
  0xff53: [0xe0, 0x4d],
  0xff67: [0xe0, 0x5d],
  0xffe9: [0x38],
  0xffea: [0xe0, 0x38],
  0xffe3: [0x1d],
  0xffe4: [0xe0, 0x1d],
  0xffe1: [0x2a],
  0xffe2: [0x36],
  0xffeb: [0xe0, 0x5b],
  0xffec: [0xe0, 0x5c],
  0xffe7: [0x38],
  0xffe8: [0xe0, 0x38],
  0xffc8: [0x57],
  0xffc9: [0x58],
};
for (let i = 0; i < 10; i++) set1[0xffbe + i] = [0x3b + i];
const rows: [string, string, number][] = [
  ["1234567890-=", "!@#$%^&*()_+", 0x02],
  ["qwertyuiop[]", "QWERTYUIOP{}", 0x10],
  ["asdfghjkl;'`", 'ASDFGHJKL:"~', 0x1e],
  ["\\zxcvbnm,./", "|ZXCVBNM<>?", 0x2b],
];
for (const [plain, shifted, first] of rows) {
  [...plain].forEach((c, i) => set1[c.codePointAt(0)!] = [first + i]);
  [...shifted].forEach((c, i) => set1[c.codePointAt(0)!] = [first + i]);
}

/** The bytes a PS/2 keyboard delivers for these key events. */
function expectedScancodes(steps: KeyStep[]): number[] {
  return steps.flatMap((s) => {
    if (s.type !== "key") return [];
    const make = set1[s.keysym];
    assert.ok(make, `no scan code known for keysym 0x${s.keysym.toString(16)}`);
    return s.down ? make : [...make.slice(0, -1), make.at(-1)! | 0x80];
  });
}

const everySpecialKey = "<bs><del><enter><return><esc><tab><spacebar><insert><home><end>" +
  "<pageUp><pageDown><up><down><left><right><menu><leftAlt><rightAlt><leftCtrl><rightCtrl>" +
  "<leftShift><rightShift><leftSuper><rightSuper><leftCommand><rightCommand><leftOption>" +
  "<rightOption><f1><f2><f3><f4><f5><f6><f7><f8><f9><f10><f11><f12>";
const printable = rows.map(([a, b]) => a + b).join("") + " ";

async function typeAndRead(
  guest: KeyEchoGuest,
  client: VncClient,
  command: string,
  intervalMs = 5,
): Promise<{ expected: number[]; got: number[] }> {
  const before = (await guest.scancodes()).length;
  const steps = bootKeySteps(parseBootCommand(command).tokens);
  await typeKeySteps(client, steps, { intervalMs });
  const expected = expectedScancodes(steps);
  const got = (await guest.waitForScancodes(before + expected.length)).slice(before);
  return { expected, got };
}

Deno.test("every special key, hold/release form and printable character reaches a qemu guest", async () => {
  await withTempDir(async (dir) => {
    const guest = await startKeyEchoGuest(dir);
    try {
      const client = await VncClient.connect({ host: "127.0.0.1", port: guest.vncPort });
      assert.equal(client.version, "3.8");
      assert.equal(client.security, "none");
      assert.equal(client.desktopName, "QEMU");
      assert.ok(client.width > 0 && client.height > 0);
      const command = everySpecialKey + printable +
        "<leftCtrlOn>c<leftCtrlOff><leftAltOn><f2><leftAltOff><leftShiftOn>1<leftShiftOff>" +
        "<aOn><aOff><QOn><QOff><rightShiftOn><rightShiftOff>";
      const { expected, got } = await typeAndRead(guest, client, command);
      assert.deepEqual(got.map((b) => b.toString(16)), expected.map((b) => b.toString(16)));
      client.close();
    } finally {
      await guest.stop();
    }
  });
});

Deno.test("VNC Authentication against qemu: the right password types, a wrong one is refused", async () => {
  await withTempDir(async (dir) => {
    const guest = await startKeyEchoGuest(dir, { vncPassword: true });
    try {
      const password = "k1Ln-pw7";
      await guest.qmp("change-vnc-password", { password });
      for (const maxVersion of ["3.8", "3.7", "3.3"] as RfbVersion[]) {
        const client = await VncClient.connect({
          host: "127.0.0.1",
          port: guest.vncPort,
          password,
          maxVersion,
        });
        assert.equal(client.version, maxVersion);
        assert.equal(client.security, "vnc-auth");
        const { expected, got } = await typeAndRead(guest, client, `v${maxVersion}<enter>`);
        assert.deepEqual(got, expected);
        client.close();
      }
      for (const maxVersion of ["3.8", "3.7", "3.3"] as RfbVersion[]) {
        const wrong = "wrong-pw";
        const error = await VncClient.connect({
          host: "127.0.0.1",
          port: guest.vncPort,
          password: wrong,
          maxVersion,
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof VncError, String(error));
        assert.match(error.message, /refused the password/);
        assert.ok(!error.message.includes(wrong) && !error.message.includes(password));
      }
      // set_password is the newer spelling of the same thing.
      await guest.qmp("set_password", { protocol: "vnc", password: "second" });
      const again = await VncClient.connect({
        host: "127.0.0.1",
        port: guest.vncPort,
        password: "second",
      });
      again.close();
      await assert.rejects(
        VncClient.connect({ host: "127.0.0.1", port: guest.vncPort }),
        /requires a password and none was given/,
      );
    } finally {
      await guest.stop();
    }
  });
});

Deno.test("RFB 3.3 and 3.7 without a password against qemu", async () => {
  await withTempDir(async (dir) => {
    const guest = await startKeyEchoGuest(dir);
    try {
      for (const maxVersion of ["3.3", "3.7"] as RfbVersion[]) {
        const client = await VncClient.connect({
          host: "127.0.0.1",
          port: guest.vncPort,
          maxVersion,
        });
        assert.equal(client.version, maxVersion);
        const { expected, got } = await typeAndRead(guest, client, "ok<enter>");
        assert.deepEqual(got, expected);
        client.close();
      }
    } finally {
      await guest.stop();
    }
  });
});

// qemu queues VNC key events and hands them to the keyboard one per
// key-delay-ms (10 ms by default), dropping beyond 1,024 queued entries: a
// burst of 200 events is within that queue, so all must arrive, in order.
Deno.test("key rate: the client's own rate and the rate qemu delivers keys to the guest", async () => {
  await withTempDir(async (dir) => {
    const guest = await startKeyEchoGuest(dir);
    try {
      const client = await VncClient.connect({ host: "127.0.0.1", port: guest.vncPort });
      const steps = bootKeySteps(parseBootCommand("the quick brown fox ".repeat(5)).tokens);
      const started = performance.now();
      await typeKeySteps(client, steps, { intervalMs: 0 });
      const sentMs = performance.now() - started;
      const expected = expectedScancodes(steps);
      const got = await guest.waitForScancodes(expected.length);
      const arrivedMs = performance.now() - started;
      assert.equal(
        got.length,
        expected.length,
        `${got.length} of ${expected.length} scan codes arrived`,
      );
      assert.deepEqual(got, expected, "every event arrived, in order");
      console.log(
        `    ${steps.length} key events: sent in ${sentMs.toFixed(1)} ms ` +
          `(${(steps.length / sentMs * 1000).toFixed(0)}/s); all in the guest after ` +
          `${arrivedMs.toFixed(0)} ms (${(steps.length / arrivedMs * 1000).toFixed(0)}/s)`,
      );
      client.close();
    } finally {
      await guest.stop();
    }
  });
});

/** A scripted RFB server on 127.0.0.1 for behaviours qemu cannot be made to show. */
function fakeServer(
  script: (conn: Deno.TcpConn) => Promise<void>,
): { port: number; done: Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    try {
      await script(conn);
    } finally {
      try {
        conn.close();
      } catch { /* closed by the client */ }
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, done };
}

async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error("client closed");
    got += r;
  }
  return out;
}

const serverInit = (name: string) => {
  const bytes = new Uint8Array(24 + name.length);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 4);
  view.setUint16(2, 2);
  view.setUint8(4, 32);
  view.setUint32(20, name.length);
  bytes.set(new TextEncoder().encode(name), 24);
  return bytes;
};

Deno.test("a 3.3-only server: the server picks None, and key events arrive", async () => {
  const received: number[][] = [];
  const server = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("RFB 003.003\n"));
    assert.equal(new TextDecoder().decode(await readN(conn, 12)), "RFB 003.003\n");
    await conn.write(new Uint8Array([0, 0, 0, 1]));
    assert.deepEqual([...await readN(conn, 1)], [1], "shared flag");
    await conn.write(serverInit("old"));
    await readN(conn, 8); // SetEncodings: raw only
    for (let i = 0; i < 2; i++) received.push([...await readN(conn, 8)]);
  });
  const client = await VncClient.connect({ host: "127.0.0.1", port: server.port });
  assert.equal(client.version, "3.3");
  assert.equal(client.desktopName, "old");
  await client.keyEvent(0xff0d, true);
  await client.keyEvent(0xff0d, false);
  await server.done;
  client.close();
  assert.deepEqual(received, [[4, 1, 0, 0, 0, 0, 0xff, 0x0d], [4, 0, 0, 0, 0, 0, 0xff, 0x0d]]);
});

Deno.test("server messages the client did not ask for never stall key events", async () => {
  const received: number[] = [];
  const server = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("RFB 003.008\n"));
    await readN(conn, 12);
    await conn.write(new Uint8Array([1, 1]));
    await readN(conn, 1);
    await conn.write(new Uint8Array([0, 0, 0, 0]));
    await readN(conn, 1);
    await conn.write(serverInit("busy"));
    await readN(conn, 8);
    // Bell, a cut text, a colour map, and a 4x2 raw rectangle at 32 bpp, many times over.
    const update = new Uint8Array(4 + 12 + 4 * 2 * 4);
    update.set([0, 0, 0, 1]);
    update.set([0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0], 4);
    const burst = [
      new Uint8Array([2]),
      new Uint8Array([3, 0, 0, 0, 0, 0, 0, 5, ...new TextEncoder().encode("hello")]),
      new Uint8Array([1, 0, 0, 0, 0, 1, ...new Uint8Array(6)]),
      update,
    ];
    for (let i = 0; i < 2000; i++) for (const m of burst) await conn.write(m);
    for (let i = 0; i < 10; i++) received.push((await readN(conn, 8))[7]);
  });
  const client = await VncClient.connect({ host: "127.0.0.1", port: server.port });
  for (let i = 0; i < 10; i++) await client.keyEvent(0x61 + i, true);
  await server.done;
  client.close();
  assert.deepEqual(received, [...Array(10).keys()].map((i) => 0x61 + i));
});

Deno.test("clear errors: refused port, not VNC, unsupported security, silent server", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await assert.rejects(
    VncClient.connect({ host: "127.0.0.1", port: closedPort }),
    new RegExp(`cannot connect to the VNC server at 127\\.0\\.0\\.1:${closedPort}`),
  );

  const http = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n"));
  });
  await assert.rejects(
    VncClient.connect({ host: "127.0.0.1", port: http.port }),
    /is not a VNC server \(it greeted with "HTTP\/1.1 400"\)/,
  );
  await http.done;

  const tight = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("RFB 003.008\n"));
    await readN(conn, 12);
    await conn.write(new Uint8Array([2, 16, 19]));
    await conn.read(new Uint8Array(1)).catch(() => null);
  });
  await assert.rejects(
    VncClient.connect({ host: "127.0.0.1", port: tight.port }),
    /offers security types 16, 19; kiln supports 1 \(None\) and 2 \(VNC Authentication\)/,
  );
  await tight.done;

  const refusing = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("RFB 003.008\n"));
    await readN(conn, 12);
    const reason = new TextEncoder().encode("too many clients");
    await conn.write(new Uint8Array([0, 0, 0, 0, reason.length, ...reason]));
  });
  await assert.rejects(
    VncClient.connect({ host: "127.0.0.1", port: refusing.port }),
    /refused the connection: too many clients/,
  );
  await refusing.done;

  const silent = fakeServer(async (conn) => {
    await conn.read(new Uint8Array(1)).catch(() => null);
  });
  const started = performance.now();
  await assert.rejects(
    VncClient.connect({ host: "127.0.0.1", port: silent.port, timeoutMs: 300 }),
    /did not complete the handshake within 300 ms/,
  );
  assert.ok(performance.now() - started < 2000);
  await silent.done;
});

Deno.test("a server that goes away mid-typing gives a clear error, not a hang", async () => {
  const server = fakeServer(async (conn) => {
    await conn.write(new TextEncoder().encode("RFB 003.008\n"));
    await readN(conn, 12);
    await conn.write(new Uint8Array([1, 1]));
    await readN(conn, 1);
    await conn.write(new Uint8Array([0, 0, 0, 0]));
    await readN(conn, 1);
    await conn.write(serverInit("short"));
    await readN(conn, 8);
  });
  const client = await VncClient.connect({ host: "127.0.0.1", port: server.port });
  await server.done;
  await client.drained;
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 100; i++) await client.keyEvent(0x61, true);
    })(),
    /closed the connection/,
  );
  client.close();
});
