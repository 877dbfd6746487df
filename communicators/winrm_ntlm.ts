/**
 * NTLMv2 messages for `winrm_use_ntlm`, built by httpntlm's ntlm module (a
 * widely used implementation; it answers with NTLMv2 whenever the server's
 * challenge carries target info, as Windows' does). Messages travel in the
 * `Negotiate` scheme, which is what a WinRM listener advertises and what
 * Packer's go-ntlmssp sends. No signing or sealing: like Packer, kiln needs
 * the listener's AllowUnencrypted over plain HTTP.
 */
import ntlm from "httpntlm/ntlm.js";

/** The user as NTLM wants it: `DOMAIN\user` or `user@domain` split apart. */
export function splitUser(username: string): { user: string; domain: string } {
  const slash = username.indexOf("\\");
  if (slash >= 0) return { domain: username.slice(0, slash), user: username.slice(slash + 1) };
  const at = username.indexOf("@");
  if (at >= 0) return { user: username.slice(0, at), domain: username.slice(at + 1) };
  return { user: username, domain: "" };
}

/** The Negotiate (type 1) token, base64. */
export function negotiateToken(username: string): string {
  const { domain } = splitUser(username);
  return String(ntlm.createType1Message({ domain, workstation: "" })).replace(/^NTLM /, "");
}

/** The Authenticate (type 3) token answering the server's challenge token, base64. */
export function authenticateToken(challenge: string, username: string, password: string): string {
  let failure: Error | undefined;
  const msg2 = ntlm.parseType2Message(`NTLM ${challenge}`, (err: Error) => failure = err);
  if (!msg2 || failure) {
    throw new Error(
      `the server's NTLM challenge is malformed: ${failure?.message ?? "unreadable"}`,
    );
  }
  const { user, domain } = splitUser(username);
  return String(
    ntlm.createType3Message(msg2, { username: user, password, domain, workstation: "" }),
  ).replace(/^NTLM /, "");
}

/** The NT hash (MD4 of the UTF-16LE password) NTLMv2 keys are derived from. */
export function ntHash(password: string): Uint8Array {
  return new Uint8Array(ntlm.create_NT_hashed_password(password));
}
