/**
 * WinRM upload benchmark: kiln's WinRM communicator (HTTP Basic, HTTP NTLM,
 * HTTPS) to the project's WinRM listener on 127.0.0.1, against kiln's SSH
 * communicator (scp) to a throwaway sshd on 127.0.0.1. Each case connects,
 * uploads a random file and disconnects; the median of `--runs` is reported
 * with throughput and the ratio to SSH. The listener decodes and hashes in
 * the same process as a real PowerShell would on the machine, so this is the
 * protocol's cost on loopback, not a Windows host's.
 *
 *   deno run -A bench/winrm.ts [--runs 3] [--size-mib 16]
 */
import { parseArgs } from "node:util";
import { writeRandomFile } from "../tests/support/random_file.ts";
import { generateKey, startSshd } from "../tests/support/sshd.ts";
import { startWinrmServer } from "../tests/support/winrm/server.ts";
import { openSsh } from "../communicators/ssh.ts";
import { openWinrm } from "../communicators/winrm.ts";
import type { Communicator } from "../communicators/communicator.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "16" },
  },
});
const runs = Number(values.runs);
const sizeMib = Number(values["size-mib"]);
const bytes = sizeMib << 20;

const dir = await Deno.makeTempDir({ prefix: "kiln-bench-winrm-" });
const big = `${dir}/big.bin`;
await writeRandomFile(big, sizeMib);
const key = await generateKey(dir, "client");
const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
const http = await startWinrmServer();
const https = await startWinrmServer({ https: true });
const signal = new AbortController().signal;

async function median(label: string, fn: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.error(`  ${label}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  return times[Math.floor(times.length / 2)];
}

async function uploadWith(open: () => Promise<Communicator>, dst: string): Promise<void> {
  const comm = await open();
  try {
    const file = await Deno.open(big, { read: true });
    await comm.upload(dst, file.readable, { size: bytes });
  } finally {
    await comm.close();
  }
}

const winrm = (server: typeof http, extra: Record<string, unknown>) => () =>
  openWinrm({
    config: { winrm_username: server.username, winrm_password: server.password, ...extra },
    target: { host: server.host, port: server.port },
    signal,
  });

const rows: { tool: string; ms: number }[] = [];
try {
  console.error(`${sizeMib} MiB upload, ${runs} runs each:`);
  rows.push({
    tool: "kiln ssh (scp)",
    ms: await median("kiln ssh scp", () =>
      uploadWith(
        () =>
          openSsh({
            config: { ssh_username: sshd.user, ssh_private_key_file: key.privateKeyPath },
            target: { host: "127.0.0.1", port: sshd.port },
            signal,
          }),
        `${dir}/ssh-copy.bin`,
      )),
  });
  const cases: [string, typeof http, Record<string, unknown>][] = [
    ["kiln winrm http basic", http, {}],
    ["kiln winrm http ntlm", http, { winrm_use_ntlm: true }],
    ["kiln winrm https basic", https, { winrm_use_ssl: true, winrm_insecure: true }],
  ];
  for (const [tool, server, extra] of cases) {
    rows.push({
      tool,
      ms: await median(tool, () => uploadWith(winrm(server, extra), "C:\\Windows\\Temp\\big.bin")),
    });
  }
} finally {
  await http.stop();
  await https.stop();
  await sshd.stop();
  await Deno.remove(dir, { recursive: true });
}

const sshMs = rows[0].ms;
console.log(`| ${sizeMib} MiB upload | median ms | MiB/s | time vs kiln ssh |`);
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) {
  const mibs = sizeMib / (r.ms / 1000);
  console.log(
    `| ${r.tool} | ${r.ms.toFixed(0)} | ${mibs.toFixed(1)} | ${(r.ms / sshMs).toFixed(2)}x |`,
  );
}
