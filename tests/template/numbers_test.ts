/**
 * Numbers out of range. Packer 1.6.6 refuses a JSON number no 64-bit float
 * holds anywhere in a template, an int option written as a string past
 * int64, max_retries past int64 and a duration past Go's range; kiln gives
 * the same verdicts. Where Packer silently turns a huge number into garbage
 * (an int option or a duration written as a bare number), kiln refuses it.
 */
import { assertEquals, assertMatch } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { issueAt, prepareIssues } from "./issues.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { parseDuration } from "../../template/duration.ts";
import { writeFile } from "./helpers.ts";
import { kilnRegistry } from "../../registry.ts";

const NULL = '{"type": "null", "communicator": "none"}';

function sshBuilder(port: string): string {
  return `{"builders": [{"type": "null", "ssh_host": "h", "ssh_username": "u",\n` +
    ` "ssh_password": "secret", "ssh_port": ${port}}]}`;
}

Deno.test("a JSON number no 64-bit float holds is refused wherever it is, as Packer refuses it", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string, string][] = [
      [sshBuilder("1e999999"), "builders[0].ssh_port", "1e999999"],
      [sshBuilder("-1e999999"), "builders[0].ssh_port", "-1e999999"],
      [sshBuilder("1e400"), "builders[0].ssh_port", "1e400"],
      [`{"builders": [${NULL}], "_c": 1e400}`, "_c", "1e400"],
      [`{"variables": {"a": 1e400}, "builders": [${NULL}]}`, "variables.a", "1e400"],
      [
        `{"builders": [${NULL}], "provisioners": [{"type": "shell-local", "inline": ["x"],` +
        ` "zzz": [2e308]}]}`,
        "provisioners[0].zzz[0]",
        "2e308",
      ],
      [sshBuilder("1" + "0".repeat(400)), "builders[0].ssh_port", "1000000000"],
    ];
    for (const [text, path, shown] of cases) {
      const { file, issues } = await prepareIssues(dir, "t.json", text);
      const issue = issueAt(issues, path);
      assertEquals(issue.file, file);
      assertEquals(issues.length, 1, issues.map((i) => i.message).join("; "));
      assertMatch(
        issue.message,
        new RegExp(`^number ${shown.replace("+", "\\+")}.* is out of range`),
      );
      assertMatch(issue.message, /must fit a 64-bit float/);
    }
  });
});

Deno.test("a number too small for a float becomes 0, as in Packer", async () => {
  await withTempDir(async (dir) => {
    const { issues } = await prepareIssues(
      dir,
      "t.json",
      `{"builders": [${NULL}], "provisioners": [{"type": "shell-local", "inline": ["x"],` +
        ` "pause_before": 1e-400}]}`,
    );
    assertEquals(issues, []);
  });
});

Deno.test("YAML infinities and NaN are refused like a JSON number out of range", async () => {
  await withTempDir(async (dir) => {
    for (const value of [".inf", "-.inf", ".nan", "1e999"]) {
      const { file, issues } = await prepareIssues(
        dir,
        "t.yaml",
        `builders:\n  - type: "null"\n    ssh_host: h\n    ssh_username: u\n` +
          `    ssh_password: secret\n    ssh_port: ${value}\n`,
      );
      const issue = issueAt(issues, "builders[0].ssh_port");
      assertEquals([issue.file, issue.line, issue.column], [file, 6, 15]);
      assertMatch(
        issue.message,
        new RegExp(`^number ${value.replace(".", "\\.")} is out of range`),
      );
    }
  });
});

Deno.test("int options: a fraction is cut as Packer cuts it; past int64 is refused", async () => {
  await withTempDir(async (dir) => {
    const accepted: [string, number][] = [
      ["22.5", 22],
      ["2e1", 20],
      ['"0x16"', 22],
      ['"026"', 22],
      ['"9223372036854775807"', 9223372036854775807],
      ["-1", -1],
    ];
    for (const [port, expected] of accepted) {
      const file = await writeFile(dir, "ok.json", sshBuilder(port));
      const prepared = await prepareTemplate(file, {}, { registry: kilnRegistry });
      assertEquals(prepared.builds[0].config.ssh_port, expected, port);
    }
    const refused: [string, RegExp][] = [
      // Packer: strconv.ParseInt: parsing "99999999999999999999": value out of range
      ['"99999999999999999999"', /got "99999999999999999999": value out of range/],
      ['"9223372036854775808"', /value out of range/],
      // Packer accepts these two and connects to a port of -9223372036854775808.
      ["1e300", /got 1e\+300: value out of range/],
      ["9223372036854775808", /value out of range/],
      ['"08"', /^expected an integer, got "08"$/],
      ['"1e400"', /^expected an integer, got "1e400"$/],
    ];
    for (const [port, message] of refused) {
      const { file, issues } = await prepareIssues(dir, "bad.json", sshBuilder(port));
      const issue = issueAt(issues, "builders[0].ssh_port");
      assertEquals([issue.file, issue.line], [file, 2], port);
      assertMatch(issue.message, message, port);
    }
  });
});

Deno.test("max_retries and durations past Go's range are refused with the path", async () => {
  await withTempDir(async (dir) => {
    const prov = (extra: string) =>
      `{"builders": [${NULL}], "provisioners": [{"type": "shell-local", "inline": ["x"], ${extra}}]}`;
    const refused: [string, string, RegExp][] = [
      ['"max_retries": 1e300', "provisioners[0].max_retries", /value out of range/],
      ['"max_retries": "99999999999999999999"', "provisioners[0].max_retries", /out of range/],
      ['"max_retries": 2.5', "provisioners[0].max_retries", /must be a valid integer$/],
      [
        '"pause_before": "99999999999h"',
        "provisioners[0].pause_before",
        /invalid duration "99999999999h": value out of range \(a duration is at most 2562047h47m16\.854775807s\)/,
      ],
      [
        '"pause_before": 1e30',
        "provisioners[0].pause_before",
        /1e\+30 nanoseconds: value out of range/,
      ],
      ['"timeout": "2562048h"', "provisioners[0].timeout", /value out of range/],
    ];
    for (const [extra, path, message] of refused) {
      const { issues } = await prepareIssues(dir, "t.json", prov(extra));
      assertMatch(issueAt(issues, path).message, message, extra);
    }
    for (const extra of ['"max_retries": "9223372036854775807"', '"timeout": "2562047h"']) {
      assertEquals((await prepareIssues(dir, "t.json", prov(extra))).issues, [], extra);
    }
    const { issues } = await prepareIssues(
      dir,
      "t.json",
      sshBuilder("22").replace('"ssh_port": 22', '"ssh_timeout": "9999999999h"'),
    );
    assertMatch(issueAt(issues, "builders[0].ssh_timeout").message, /value out of range/);
  });
});

Deno.test("a duration of a quarter of a million digits is refused, not a hang", () => {
  // An ambiguous pattern backtracked quadratically over runs of digits: this
  // took minutes. The bound is a hang guard, not a speed measurement.
  for (const text of ["1".repeat(262_144), "1".repeat(262_144) + "x", "." + "1".repeat(262_144)]) {
    const t0 = performance.now();
    assertEquals(parseDuration(text), undefined);
    assertEquals(performance.now() - t0 < 10_000, true, `${text.length} characters hung`);
  }
  assertEquals(parseDuration("1.5h"), 90 * 60 * 1000);
});
