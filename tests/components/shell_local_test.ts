import assert from "node:assert/strict";
import { join } from "node:path";
import { alive, goneWithin } from "../support/processes.ts";
import { shellLocalProvisioner } from "../../provisioners/shell_local.ts";
import { SHELL_LOCAL_EVENT } from "../../provisioners/shared/shell_local_run.ts";
import {
  decode,
  fixture,
  fixtureTemplate,
  issues,
  provisionContext,
  withTempDir,
} from "./support.ts";

const schema = shellLocalProvisioner.schema;

/** The fixture template's provisioner config, its output files moved into `dir`. */
async function fixtureConfig(name: string, dir: string): Promise<Record<string, unknown>> {
  const t = await fixtureTemplate(name);
  const raw = (t.provisioners as Record<string, unknown>[])[0];
  const { type: _type, ...config } = raw;
  const text = JSON.stringify(config)
    .replaceAll("> vars.out", `> ${join(dir, "vars.out")}`)
    .replaceAll("env.out", join(dir, "env.out"));
  return JSON.parse(text);
}

Deno.test("shell-local quotes environment_vars exactly as Packer 1.6.6 (fixture)", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = provisionContext();
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, await fixtureConfig("env_quoting.json", dir)),
    );
    assert.equal(await Deno.readTextFile(join(dir, "vars.out")), await fixture("env_quoting.vars"));
    assert.equal(await Deno.readTextFile(join(dir, "env.out")), await fixture("env_quoting.env"));
  });
});

Deno.test("shell-local honours env_var_format as Packer 1.6.6 (fixture)", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = provisionContext({ buildName: "fmt" });
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, await fixtureConfig("env_format.json", dir)),
    );
    assert.equal(await Deno.readTextFile(join(dir, "vars.out")), await fixture("env_format.vars"));
    const expected = (await fixture("env_format.env")).replace("/root", Deno.env.get("HOME") ?? "");
    assert.equal(await Deno.readTextFile(join(dir, "env.out")), expected);
  });
});

Deno.test("shell-local accepts valid_exit_codes and rejects others with Packer's message", async () => {
  const { ctx } = provisionContext();
  await shellLocalProvisioner.provision(
    ctx,
    decode(schema, { inline: ["exit 3"], valid_exit_codes: [0, 3] }),
  );
  const expected = (await fixture("exit_codes.txt")).trim().replace("Build 'null' errored: ", "");
  await assert.rejects(
    () => shellLocalProvisioner.provision(ctx, decode(schema, { command: "exit 2" })),
    (err: Error) => err.message === expected,
  );
});

Deno.test("shell-local streams stdout as messages and stderr as errors, and records a summary", async () => {
  const { ctx, ui, events } = provisionContext({ buildName: "web", builderType: "file" });
  await shellLocalProvisioner.provision(
    ctx,
    decode(schema, {
      inline: [
        "echo one",
        "echo two >&2",
        "printf 'no newline'",
        "echo $PACKER_BUILD_NAME/$PACKER_BUILDER_TYPE >&2",
      ],
    }),
  );
  assert.match(ui.says[0], /^Running local shell script: \/.*packer-shell\d+$/);
  assert.deepEqual(ui.messages, ["one", "no newline"]);
  assert.deepEqual(ui.errors, ["two", "web/file"]);
  const event = events.find((e) => e.type === SHELL_LOCAL_EVENT);
  assert.ok(event);
  assert.equal(event.data.exitStatus, 0);
  assert.deepEqual((event.data.stdout as { tail: string[] }).tail, ["one", "no newline"]);
  // The temporary inline script is gone once the provisioner returns.
  const script = ui.says[0].replace("Running local shell script: ", "");
  await assert.rejects(() => Deno.stat(script), Deno.errors.NotFound);
});

Deno.test("shell-local runs scripts in order, each by its absolute path, in isolation", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a.sh");
    const b = join(dir, "b.sh");
    await Deno.writeTextFile(a, `#!/bin/sh\nX=set-in-a\necho "a $0" >> ${dir}/log\n`, {
      mode: 0o755,
    });
    await Deno.writeTextFile(b, `#!/bin/sh\necho "b $0 X=[$X]" >> ${dir}/log\n`, { mode: 0o755 });
    const { ctx, ui } = provisionContext();
    await shellLocalProvisioner.provision(ctx, decode(schema, { scripts: [a, b] }));
    assert.equal(await Deno.readTextFile(join(dir, "log")), `a ${a}\nb ${b} X=[]\n`);
    assert.deepEqual(ui.says, [
      `Running local shell script: ${a}`,
      `Running local shell script: ${b}`,
    ]);
  });
});

Deno.test("inline_shebang picks the interpreter; the default /bin/sh -e stops at the first failure", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = provisionContext();
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        inline: [`echo "[$BASH_VERSION]" > ${dir}/bash`],
        inline_shebang: "/bin/bash",
      }),
    );
    assert.notEqual((await Deno.readTextFile(join(dir, "bash"))).trim(), "[]");
    await assert.rejects(
      () =>
        shellLocalProvisioner.provision(
          ctx,
          decode(schema, { inline: ["false", `touch ${dir}/after`] }),
        ),
      /non-zero exit status: 1\./,
    );
    await assert.rejects(() => Deno.stat(join(dir, "after")), Deno.errors.NotFound);
  });
});

Deno.test("execute_command: array rendered with {{.Vars}}/{{.Script}}; a string runs under sh -c", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = provisionContext({ buildName: "b1" });
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        command: "true",
        environment_vars: ["K=v w"],
        execute_command: [
          "/bin/sh",
          "-c",
          `printf '%s|%s|%s' "$1" "$2" "{{build_name}}" > ${dir}/argv`,
          "sh",
          "{{.Script}}",
          "{{.Vars}}",
        ],
      }),
    );
    const [script, vars, name] = (await Deno.readTextFile(join(dir, "argv"))).split("|");
    assert.match(script, /packer-shell\d+$/);
    assert.equal(vars, "K='v w' PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='b1' ");
    assert.equal(name, "b1");
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        inline: ["echo $K > " + join(dir, "str")],
        environment_vars: ["K=str"],
        execute_command: "{{.Vars}} {{.Script}}",
      }),
    );
    assert.equal(await Deno.readTextFile(join(dir, "str")), "str\n");
  });
});

Deno.test("env overrides environment_vars; PACKER_HTTP_* come from build data", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = provisionContext({
      buildData: {
        PackerHTTPAddr: "127.0.0.1:8080",
        PackerHTTPIP: "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER",
      },
    });
    await shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        environment_vars: ["A=from-list", "B=kept"],
        env: { A: "from-env" },
        inline: [`echo "$A $B $PACKER_HTTP_ADDR [\${PACKER_HTTP_IP-unset}]" > ${dir}/out`],
      }),
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "out")),
      "from-env kept 127.0.0.1:8080 [unset]\n",
    );
  });
});

Deno.test("only_on skips on other operating systems", async () => {
  const { ctx, ui } = provisionContext();
  const other = Deno.build.os === "windows" ? "linux" : "windows";
  await shellLocalProvisioner.provision(
    ctx,
    decode(schema, { inline: ["exit 1"], only_on: [other] }),
  );
  assert.deepEqual(ui.says, ["Skipping shell-local due to runtime OS"]);
});

Deno.test("shell-local validation reports Packer's messages", () => {
  assert.deepEqual(issues(schema, {}), [
    "c: Command, Inline, Script and Scripts options cannot all be empty.",
  ]);
  assert.match(
    issues(schema, { inline: ["a"], script: "/etc/hostname" })[0],
    /You may only specify one of the following options: Command, Inline, Script or Scripts/,
  );
  assert.deepEqual(issues(schema, { inline: ["a"], environment_vars: ["=x", "novalue", "ok=1"] }), [
    "c.environment_vars: Environment variable not in format 'key=value': =x",
    "c.environment_vars: Environment variable not in format 'key=value': novalue",
  ]);
  assert.deepEqual(issues(schema, { script: "/nonexistent/x.sh" }), [
    "c.script: Bad script '/nonexistent/x.sh': stat /nonexistent/x.sh: no such file or directory",
  ]);
  assert.match(
    issues(schema, { inline: ["a"], only_on: ["plan9"] })[0],
    /Invalid OS specified in only_on: 'plan9'/,
  );
  assert.match(
    issues(schema, { inline: ["a"], valid_exit_codes: ["x"] })[0],
    /expected an integer exit code/,
  );
  assert.match(
    issues(schema, { inline: ["a"], execute_command: [1, 2] })[0],
    /expected an array of strings/,
  );
});

Deno.test("aborting shell-local kills the script and what it started", async () => {
  await withTempDir(async (dir) => {
    const abort = new AbortController();
    const { ctx } = provisionContext({ signal: abort.signal });
    const pidFile = join(dir, "pids");
    const run = shellLocalProvisioner.provision(
      ctx,
      decode(schema, {
        inline: [
          `sleep 60 & echo "$$ $!" > ${pidFile}.tmp`,
          `mv ${pidFile}.tmp ${pidFile}`,
          "wait",
        ],
      }),
    );
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      pids = await Deno.readTextFile(pidFile).then(
        (t) => t.trim().split(" ").map(Number),
        () => [],
      );
    }
    assert.equal(pids.length, 2, "the script started");
    assert.ok(await alive(pids[1]));
    abort.abort(new Error("cancelled by test"));
    await assert.rejects(() => run, /cancelled by test/);
    for (const pid of pids) {
      assert.ok(await goneWithin(pid), `process ${pid} was killed`);
    }
  });
});
