/** A throwaway self-signed certificate for the HTTPS listener, made with openssl. */

/** PEM certificate and key. */
export interface SelfSigned {
  cert: string;
  key: string;
}

/**
 * Generates a certificate for localhost and 127.0.0.1: only the chain is
 * untrusted, so a client that refuses it does so for the reason a real
 * self-signed WinRM listener is refused.
 */
export async function selfSignedCertificate(): Promise<SelfSigned> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-winrm-cert-" });
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`openssl req: ${new TextDecoder().decode(out.stderr)}`);
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
