/** The file provisioner: content, uploads, downloads, events; and a differential run against Packer 1.6.6. */
import assert from "node:assert/strict";
import { fileProvisioner } from "../../provisioners/file.ts";
import {
  havePacker,
  listTree,
  packerBuild,
  provisionContext,
  startLab,
  withConnectedLab,
} from "./helpers.ts";

Deno.test("file: content, a file into a directory, and transfer events without secrets", async () => {
  const lab = await startLab();
  const comm = await lab.connect({ ssh_file_transfer_method: "sftp" });
  try {
    const { ctx, rec } = provisionContext(comm);
    await Deno.mkdir(`${lab.dir}/dst`);
    await fileProvisioner.provision(ctx, {
      direction: "upload",
      content: "hello\n",
      destination: `${lab.dir}/dst/greeting`,
    });
    await fileProvisioner.provision(ctx, {
      direction: "upload",
      content: "into dir",
      destination: `${lab.dir}/dst/`,
    });
    await Deno.writeTextFile(`${lab.dir}/app.conf`, "x=1\n");
    await fileProvisioner.provision(ctx, {
      direction: "upload",
      sources: [`${lab.dir}/app.conf`],
      destination: `${lab.dir}/dst/`,
    });
    assert.equal(await Deno.readTextFile(`${lab.dir}/dst/greeting`), "hello\n");
    assert.equal(await Deno.readTextFile(`${lab.dir}/dst/pkr-file-content`), "into dir");
    assert.equal(await Deno.readTextFile(`${lab.dir}/dst/app.conf`), "x=1\n");
    const transfers = rec.events.filter((e) => e.type === "FileTransferred");
    assert.equal(transfers.length, 3);
    assert.deepEqual(transfers.map((t) => t.data.bytes), [6, 8, 4]);
    assert.ok(transfers.every((t) => typeof t.data.durationMs === "number"));
    assert.deepEqual(rec.says, [
      `Uploading content => ${lab.dir}/dst/greeting`,
      `Uploading content => ${lab.dir}/dst/pkr-file-content`,
      `Uploading ${lab.dir}/app.conf => ${lab.dir}/dst/`,
    ]);
  } finally {
    await comm.close();
    await lab.dispose();
  }
});

Deno.test("file: a failed transfer is reported and logged", () =>
  withConnectedLab(async (lab, comm) => {
    const { ctx, rec } = provisionContext(comm);
    await assert.rejects(
      fileProvisioner.provision(ctx, {
        direction: "download",
        source: "/nonexistent/file",
        destination: `${lab.dir}/out`,
      }),
      /nonexistent/,
    );
    assert.match(rec.errors[0], /^Download failed: /);
    assert.equal(rec.events[0].type, "FileTransferFailed");
  }));

Deno.test("file: the schema checks sources, content and direction", () => {
  const problems: string[] = [];
  const report = (key: string, message: string) => problems.push(`${key}: ${message}`);
  fileProvisioner.schema.check!({ destination: "/tmp/x", direction: "upload" }, report);
  fileProvisioner.schema.check!(
    { source: "/nonexistent", destination: "/x", direction: "upload" },
    report,
  );
  fileProvisioner.schema.check!({
    source: "/nonexistent",
    destination: "/x",
    direction: "upload",
    generated: true,
  }, report);
  fileProvisioner.schema.check!(
    { content: "x", source: "/etc/hostname", destination: "/x" },
    report,
  );
  assert.deepEqual(problems, [
    "source: Source must be specified.",
    problems[1],
    "content: cannot be specified with source or sources",
  ]);
  assert.match(problems[1], /^source: Bad source '\/nonexistent'/);
});

for (const method of ["scp", "sftp"]) {
  Deno.test({
    name: `file: uploads and downloads land exactly where Packer 1.6.6 puts them (${method})`,
    ignore: !(await havePacker()),
    fn: async () => {
      const lab = await startLab();
      try {
        const d = lab.dir;
        await Deno.mkdir(`${d}/src/sub/deep`, { recursive: true });
        await Deno.writeTextFile(`${d}/src/a.txt`, "A");
        await Deno.writeTextFile(`${d}/src/sub/b.txt`, "B");
        await Deno.writeTextFile(`${d}/src/sub/deep/c.txt`, "C");
        await Deno.symlink(`${d}/src/a.txt`, `${d}/src/link.txt`);
        await Deno.writeTextFile(`${d}/single.txt`, "S");
        const cases = (root: string) => [
          { source: `${d}/src`, destination: `${root}/u1` },
          { source: `${d}/src/`, destination: `${root}/u2` },
          { source: `${d}/src`, destination: `${root}/u3/` },
          { source: `${d}/single.txt`, destination: `${root}/u4/` },
          { source: `${d}/single.txt`, destination: `${root}/u5/renamed.txt` },
          { source: `${d}/src/sub/`, destination: `${root}/dl1/`, direction: "download" },
          { source: `${d}/src/sub/b.txt`, destination: `${root}/dl2/`, direction: "download" },
          { source: `${d}/src/sub/b.txt`, destination: `${root}/dl3/x.txt`, direction: "download" },
          { source: `${d}/src/sub/*`, destination: `${root}/dl4/`, direction: "download" },
        ];
        for (const root of [`${d}/packer`, `${d}/kiln`]) {
          for (const u of ["u1", "u2", "u3", "u4", "u5"]) {
            await Deno.mkdir(`${root}/${u}`, { recursive: true });
          }
        }
        const template = {
          builders: [{
            type: "null",
            ...lab.config({ ssh_timeout: "10s", ssh_file_transfer_method: method }),
          }],
          provisioners: cases(`${d}/packer`).map((c) => ({ type: "file", ...c })),
        };
        await Deno.writeTextFile(`${d}/template.json`, JSON.stringify(template));
        const packer = await packerBuild(`${d}/template.json`, d);
        assert.ok(packer.success, packer.stdout);
        const packerSays = packer.stdout.split("\n")
          .filter((l) =>
            l.startsWith("==> null: Uploading") || l.startsWith("==> null: Downloading")
          )
          .map((l) => l.slice("==> null: ".length).replaceAll(`${d}/packer`, "ROOT"));

        const comm = await lab.connect({ ssh_file_transfer_method: method });
        const { ctx, rec } = provisionContext(comm);
        for (const c of cases(`${d}/kiln`)) {
          await fileProvisioner.provision(ctx, { direction: "upload", ...c });
        }
        await comm.close();

        assert.deepEqual(rec.says.map((s) => s.replaceAll(`${d}/kiln`, "ROOT")), packerSays);
        const expected = await listTree(`${d}/packer`);
        assert.deepEqual(await listTree(`${d}/kiln`), expected);
        for (const path of expected.filter((p) => !p.endsWith("/"))) {
          assert.equal(
            await Deno.readTextFile(`${d}/kiln/${path}`),
            await Deno.readTextFile(`${d}/packer/${path}`),
            path,
          );
          assert.ok(!(await Deno.lstat(`${d}/kiln/${path}`)).isSymlink);
        }
      } finally {
        await lab.dispose();
      }
    },
  });
}
