/**
 * WinRM upload benchmark: kiln's WinRM communicator (HTTP Basic, HTTP NTLM,
 * HTTPS) to the project's WinRM listener on 127.0.0.1, against kiln's SSH
 * communicator (scp) to a throwaway sshd on 127.0.0.1. Each case connects,
 * uploads a random file and disconnects; the median of `--runs` is reported
 * with throughput and the ratio to SSH. The listener decodes and hashes in
 * the same process as a real PowerShell would on the machine, so this is the
 * protocol's cost on loopback, not a Windows host's.
 *
 * Then the same upload as a whole build: one null-builder template whose
 * `file` provisioner uploads the file over WinRM (HTTP Basic), through
 * `kiln build` and `packer build` (1.6.6: winrmcp's `echo <base64> >>` chunks
 * through cmd.exe, a new shell every 15), timed side by side by hyperfine.
 * The transfer's share is the build's median minus the median of a
 * connect-only build of the same template. Skipped when hyperfine or packer
 * is missing.
 *
 *   deno run -A bench/winrm.ts [--runs 3] [--size-mib 16] [--build-runs 3]
 */
import { parseArgs } from "node:util";
import { writeRandomFile } from "../tests/support/random_file.ts";
import { generateKey, startSshd } from "../tests/support/sshd.ts";
import { startWinrmServer } from "../tests/support/winrm/server.ts";
import { nullWinrmBuilder } from "../tests/support/winrm/template.ts";
import { openSsh } from "../communicators/ssh.ts";
import { openWinrm } from "../communicators/winrm.ts";
import type { Communicator } from "../communicators/communicator.ts";
import { havePacker, sha256File } from "../tests/ssh/helpers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "16" },
    "build-runs": { type: "string", default: "3" },
  },
});
const runs = Number(values.runs);
const buildRuns = Number(values["build-runs"]);
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

/** A whole build's figures: hyperfine medians of the upload build and of a connect-only one. */
interface BuildRow {
  tool: string;
  buildMs: number;
  connectOnlyMs: number;
}

const have = (cmd: string, args: string[]) =>
  new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()
    .then((o) => o.success, () => false);

/** Times `kiln build` and `packer build` of the same WinRM upload template with hyperfine. */
async function wholeBuilds(): Promise<BuildRow[] | string> {
  if (!(await have("hyperfine", ["--version"]))) return "hyperfine is not installed";
  if (!(await havePacker())) return "packer is not installed";
  const server = await startWinrmServer({ password: "bench-Pa55" });
  try {
    const template = (name: string, provisioners: unknown[]) => {
      const path = `${dir}/${name}.json`;
      Deno.writeTextFileSync(
        path,
        JSON.stringify({ builders: [nullWinrmBuilder(server)], provisioners }),
      );
      return path;
    };
    const upload = template("upload", [
      { type: "file", source: big, destination: "C:\\Windows\\Temp\\built.bin" },
    ]);
    const connectOnly = template("connect-only", []);
    const cli = new URL("../cli.ts", import.meta.url).pathname;
    const commands: [string, string][] = [
      ["kiln", `deno run -A ${cli} build ${upload}`],
      ["packer 1.6.6", `packer build -color=false ${upload}`],
      ["kiln connect-only", `deno run -A ${cli} build ${connectOnly}`],
      ["packer 1.6.6 connect-only", `packer build -color=false ${connectOnly}`],
    ];
    const json = `${dir}/hyperfine.json`;
    const hf = await new Deno.Command("hyperfine", {
      args: [
        ...["--warmup", "1", "--runs", String(buildRuns), "--style", "basic"],
        ...["--export-json", json],
        ...commands.flatMap(([name, command]) => ["-n", name, command]),
      ],
      cwd: dir,
      env: { KILN_HOME: `${dir}/kiln-home`, CHECKPOINT_DISABLE: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    await Deno.stderr.write(hf.stdout);
    if (!hf.success) throw new Error("hyperfine failed (a build failed?)");
    // Both tools wrote the same destination: it must hold the file, or nothing was measured.
    if (await sha256File(`${server.root}/C/Windows/Temp/built.bin`) !== await sha256File(big)) {
      throw new Error("the uploaded file differs from the source");
    }
    const medians = (JSON.parse(await Deno.readTextFile(json)).results as { median: number }[])
      .map((r) => r.median * 1000);
    return [
      { tool: "kiln winrm build", buildMs: medians[0], connectOnlyMs: medians[2] },
      { tool: "packer 1.6.6 winrm build", buildMs: medians[1], connectOnlyMs: medians[3] },
    ];
  } finally {
    await server.stop();
  }
}

const rows: { tool: string; ms: number }[] = [];
let builds: BuildRow[] | string = "not run";
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
  console.error(`Whole builds (${buildRuns} runs each, hyperfine):`);
  builds = await wholeBuilds();
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

if (typeof builds === "string") {
  console.log(`\nWhole-build comparison with Packer skipped: ${builds}`);
} else {
  const packer = builds[1];
  const transfer = (r: BuildRow) => Math.max(1, r.buildMs - r.connectOnlyMs);
  console.log(
    `\n| ${sizeMib} MiB file provisioner, whole build | median ms | connect-only ms | ` +
      "transfer share ms | transfer MiB/s | build time vs packer | transfer time vs packer |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of builds) {
    console.log(
      `| ${r.tool} | ${r.buildMs.toFixed(0)} | ${r.connectOnlyMs.toFixed(0)} | ` +
        `${transfer(r).toFixed(0)} | ${(sizeMib / (transfer(r) / 1000)).toFixed(1)} | ` +
        `${(r.buildMs / packer.buildMs).toFixed(2)}x | ` +
        `${(transfer(r) / transfer(packer)).toFixed(2)}x |`,
    );
  }
}
