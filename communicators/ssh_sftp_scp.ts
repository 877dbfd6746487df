/**
 * The scp transfer method over SFTP, as OpenSSH 9's `scp` does it: the
 * transfer speaks SFTP to the server's `sftp` subsystem (no login shell is
 * started, so a slow ~/.bashrc costs nothing per file), while what a user
 * sees stays scp's: failures read `scp <what>: scp: <path>: <reason>` with
 * the reasons the remote `scp -t`/`scp -f` would give, not SFTP's terse
 * status words ("Failure", "No such file").
 */
import type { SFTPWrapper } from "ssh2";
import { SftpError } from "./ssh_sftp.ts";

/** SSH_FX_* status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;

function isDirectory(sftp: SFTPWrapper, path: string): Promise<boolean> {
  return new Promise((resolve) =>
    sftp.stat(
      path,
      (err: Error | undefined, attrs: { isDirectory(): boolean }) =>
        resolve(!err && attrs.isDirectory()),
    )
  );
}

/**
 * The reason scp would print for a failed SFTP request. OpenSSH's
 * sftp-server folds every errno but ENOENT and EACCES into FAILURE, so a
 * FAILURE on a directory is told apart with a stat, the one case file
 * provisioner users hit (a destination that is an existing directory).
 */
async function scpReason(sftp: SFTPWrapper, err: SftpError): Promise<string> {
  if (err.code === NO_SUCH_FILE) return "No such file or directory";
  if (err.code === PERMISSION_DENIED) return "Permission denied";
  if (err.code === FAILURE && await isDirectory(sftp, err.path)) {
    return err.op === "read" ? "not a regular file" : "Is a directory";
  }
  return err.reason;
}

/**
 * Runs an SFTP transfer made for the scp method; an SFTP request failure is
 * rethrown in scp's words (`scp to /x: scp: /x: Is a directory`). Anything
 * else (a lost connection, a local error) passes through unchanged.
 */
export async function asScp<T>(sftp: SFTPWrapper, what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!(err instanceof SftpError)) throw err;
    throw new Error(`scp ${what}: scp: ${err.path}: ${await scpReason(sftp, err)}`);
  }
}
