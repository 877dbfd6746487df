/**
 * Drives a WinRM listener with pywinrm (Debian's python3-winrm), the
 * third-party client that proves the test listener speaks real WinRM.
 */

/** Debian's interpreter: pywinrm is installed for it, not for other pythons on PATH. */
const PYTHON = "/usr/bin/python3";

/**
 * OpenSSL 3 keeps MD4 — which NTLM's NT hash needs — in its legacy provider,
 * off by default; pywinrm's NTLM (ntlm-auth) asks hashlib for it.
 */
const LEGACY_OPENSSL = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`;

/** What the python script printed and how it exited. */
export interface PythonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether pywinrm is importable (tests say why they fail if not). */
export async function hasPywinrm(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", "import winrm"], stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/** Runs `script` with `args` (JSON, as sys.argv[1]). */
export async function runPython(script: string, args: unknown): Promise<PythonResult> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-pywinrm-" });
  try {
    await Deno.writeTextFile(`${dir}/openssl.cnf`, LEGACY_OPENSSL);
    await Deno.writeTextFile(`${dir}/script.py`, script);
    const out = await new Deno.Command(PYTHON, {
      args: [`${dir}/script.py`, JSON.stringify(args)],
      // A clean environment: pywinrm 0.3 lets REQUESTS_CA_BUNDLE and friends override
      // server_cert_validation='ignore'.
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        OPENSSL_CONF: `${dir}/openssl.cnf`,
        PYTHONWARNINGS: "ignore",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
