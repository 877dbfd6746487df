/**
 * xz over a byte stream through the system `xz` (Debian: xz-utils), a child
 * process fed through pipes: input is written only as fast as xz takes it,
 * and its output is read as it comes, so nothing is held whole in memory.
 * xz-utils is the reference encoder; the maintained npm one (@napi-rs/lzma)
 * compresses whole buffers and is a native addon.
 *
 * The child is no ledger resource: it owns no file and lives only through
 * its pipes. The partial archive is written by kiln from xz's stdout; when
 * kiln dies (even by SIGKILL), xz reads end-of-input, its next write hits a
 * closed pipe and it exits, and the partial file is the ledger's as for the
 * other formats.
 */

/** What a user reads when `xz` is missing. */
export const XZ_MISSING = "compress: .xz and .tar.xz need the xz program, which was not found " +
  "on PATH (Debian/Ubuntu: apt-get install xz-utils)";

/**
 * Compresses `source` into one .xz stream at preset `level` (1-9, xz's
 * `-1`..`-9`: the higher, the larger the dictionary and the smaller the
 * output). Single-threaded (`-T1`), so the bytes do not depend on the
 * machine's core count.
 */
export async function* xzStream(
  source: AsyncIterable<Uint8Array>,
  level: number,
): AsyncGenerator<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("xz", {
      args: ["--compress", "--stdout", "--quiet", "-T1", `-${level}`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(XZ_MISSING);
    throw err;
  }
  const stderr = new Response(child.stderr).text();
  let finished = false;
  const feed = (async () => {
    const writer = child.stdin.getWriter();
    try {
      for await (const chunk of source) await writer.write(chunk);
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
      throw err;
    }
  })();
  // Whichever of feed and read fails first decides; the other must not go unhandled.
  feed.catch(() => {});
  try {
    for await (const chunk of child.stdout) yield chunk;
    await feed;
    const status = await child.status;
    finished = true;
    if (!status.success) {
      const why = (await stderr).trim() || `exit code ${status.code}`;
      throw new Error(`compress: xz failed: ${why}`);
    }
  } finally {
    if (!finished) {
      // Cancelled, or the source failed: stop xz rather than let it finish.
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      await feed.catch(() => {});
    }
    await stderr.catch(() => {});
  }
}
