/**
 * The test listener against pywinrm, a WinRM client kiln did not write: if
 * these pass, what kiln's communicator tests prove holds for a real peer's
 * idea of the protocol (envelopes, Receive streaming, faults, Basic, NTLMv2,
 * HTTPS).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodePowerShell } from "../../communicators/winrm_scripts.ts";
import { hasPywinrm, runPython } from "../support/winrm/pywinrm.ts";
import { startWinrmServer, type WinrmServerOptions } from "../support/winrm/server.ts";
import type { CommandEmulator } from "../support/winrm/emulation.ts";

const SCRIPT = `
import base64, json, sys, winrm
a = json.loads(sys.argv[1])
s = winrm.Session(a["url"], auth=(a["user"], a["password"]), transport=a["transport"], **a["kw"])
out = []
for op in a["ops"]:
    try:
        r = s.run_ps(op["text"]) if op["kind"] == "ps" else s.run_cmd(op["text"])
        out.append({"code": r.status_code, "stdout": base64.b64encode(r.std_out).decode(),
                    "stderr": base64.b64encode(r.std_err if isinstance(r.std_err, bytes) else r.std_err.encode()).decode()})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;

interface OpResult {
  code?: number;
  stdout?: string;
  stderr?: string;
  error?: string;
}

/** PowerShell scripts are echoed back, so tests see what arrived after -EncodedCommand. */
const echoPowerShell: CommandEmulator = (line, io) => {
  const script = decodePowerShell(line);
  if (script === undefined) return Promise.resolve(undefined);
  io.stdout(`ps:${script}`);
  return Promise.resolve(0);
};

async function withServer(
  options: WinrmServerOptions,
  fn: (s: Awaited<ReturnType<typeof startWinrmServer>>) => Promise<void>,
) {
  assert.ok(await hasPywinrm(), "pywinrm is missing: apt-get install -y python3-winrm");
  const server = await startWinrmServer({ emulator: echoPowerShell, ...options });
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

async function pywinrm(
  url: string,
  transport: string,
  ops: { kind: "cmd" | "ps"; text: string }[],
  options: { password?: string; kw?: Record<string, unknown> } = {},
): Promise<OpResult[]> {
  const out = await runPython(SCRIPT, {
    url,
    user: "vagrant",
    password: options.password ?? "vagrant",
    transport,
    kw: options.kw ?? {},
    ops,
  });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

const text = (b64 = "") => Buffer.from(b64, "base64").toString("utf8");

for (const [transport, kw] of [["basic", {}], ["ntlm", { message_encryption: "never" }]] as const) {
  Deno.test(`pywinrm (${transport}) runs commands: output, stderr, exit codes`, async () => {
    await withServer({}, async (s) => {
      const [ok, failing, ps] = await pywinrm(s.url, transport, [
        { kind: "cmd", text: "echo hello world" },
        { kind: "cmd", text: "echo oops >&2; exit 7" },
        { kind: "ps", text: "Write-Output 'héllo'" },
      ], { kw });
      assert.equal(ok.code, 0);
      assert.equal(text(ok.stdout), "hello world\n");
      assert.equal(failing.code, 7);
      assert.equal(text(failing.stderr), "oops\n");
      assert.equal(ps.code, 0);
      assert.equal(text(ps.stdout), "ps:Write-Output 'héllo'");
      assert.equal(s.stats.actions.Create, 3);
      assert.equal(s.stats.actions.Delete, 3);
    });
  });

  Deno.test(`pywinrm (${transport}) with a wrong password is refused`, async () => {
    await withServer({}, async (s) => {
      const [r] = await pywinrm(s.url, transport, [{ kind: "cmd", text: "echo no" }], {
        password: "wrong",
        kw,
      });
      assert.match(r.error ?? "", /InvalidCredentialsError/);
      assert.equal(s.stats.commands.length, 0);
    });
  });
}

Deno.test("pywinrm receives several MiB of output exactly, across many Receives", async () => {
  await withServer({}, async (s) => {
    const [r] = await pywinrm(s.url, "basic", [
      { kind: "cmd", text: "head -c 3145728 /dev/urandom | tee big.bin | sha256sum" },
    ]);
    assert.equal(r.code, 0);
    const [big] = await pywinrm(s.url, "basic", [{ kind: "cmd", text: "cat big.bin" }]);
    const bytes = Buffer.from(big.stdout!, "base64");
    assert.equal(bytes.length, 3145728);
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");
    assert.equal(text(r.stdout).split(" ")[0], digest);
    // pywinrm accepts 153600-byte envelopes, so 3 MiB needs more than 20 Receives.
    assert.ok(s.stats.actions.Receive > 20, `${s.stats.actions.Receive} Receives`);
  });
});

Deno.test("pywinrm over HTTPS: ignore accepts the self-signed certificate, validate refuses it", async () => {
  await withServer({ https: true }, async (s) => {
    assert.match(s.url, /^https:/);
    const [ok] = await pywinrm(s.url, "ssl", [{ kind: "cmd", text: "echo tls" }], {
      kw: { server_cert_validation: "ignore" },
    });
    assert.equal(text(ok.stdout), "tls\n", JSON.stringify(ok));
    const [refused] = await pywinrm(s.url, "ssl", [{ kind: "cmd", text: "echo tls" }], {
      kw: { server_cert_validation: "validate" },
    });
    assert.match(refused.error ?? "", /SSL|certificate/i);
  });
});

Deno.test("pywinrm sees the listener's SOAP faults with their reason", async () => {
  await withServer({ maxEnvelopeSize: 4096 }, async (s) => {
    const [r] = await pywinrm(s.url, "basic", [{ kind: "cmd", text: `echo ${"x".repeat(5000)}` }]);
    assert.match(r.error ?? "", /WinRMError: .*exceeds the MaxEnvelopeSize quota/);
    assert.match(r.error ?? "", /'wsmanfault_code': '2150858817'/);
    assert.equal(s.stats.oversized, 1);
  });
});
