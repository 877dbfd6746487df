/**
 * The hostile templates of the bad-input trust rows: duplicate keys, numbers
 * out of range, deep nesting, runaway expansion. Each says what kiln must
 * answer (the JSON path and words of its error, or success) and what Packer
 * 1.6.6 answers, so the full campaign can check the claim against Packer.
 */

/** One template (and the files it needs) with the answer expected. */
export interface BadCase {
  what: string;
  /** Name of the template file in the trial's directory. */
  file: string;
  content: string;
  /** More files (var-files) by name. */
  extra?: Record<string, string>;
  /** Flags before the template. */
  flags?: string[];
  /** The JSON path the error names; undefined when kiln must accept the template. */
  path?: string;
  /** What the error says after the path. */
  message?: RegExp;
  /**
   * Packer 1.6.6's verdict ("accept" where kiln deliberately refuses), checked in "full" when
   * Packer is installed; left out where Packer would need unbounded memory to answer.
   */
  packer?: "accept" | "reject";
  /** In the fast subset. */
  fast?: boolean;
}

const NULL = '{"type": "null", "communicator": "none"}';
const DUPLICATE = /duplicate key ".*" \(another value for it is at line \d+, column \d+\)/;
const OUT_OF_RANGE = /is out of range: numbers must (be finite and )?fit a 64-bit float/;

function json(parts: string): string {
  return `{"builders": [${NULL}]${parts}}`;
}

function provisioner(options: string): string {
  return json(`,\n "provisioners": [{"type": "shell-local", "inline": ["echo a"], ${options}}]`);
}

function sshPort(port: string): string {
  return `{"builders": [{"type": "null", "ssh_host": "h", "ssh_username": "u",\n` +
    ` "ssh_password": "secret", "ssh_port": ${port}}]}`;
}

/** Duplicate keys wherever Packer refuses them, and a var-file where it keeps the last. */
export const DUPLICATE_KEYS: BadCase[] = [
  {
    what: "root key",
    file: "t.json",
    content: `{"builders": [${NULL}],\n "builders": [${NULL}]}`,
    path: "builders",
    message: DUPLICATE,
    packer: "reject",
    fast: true,
  },
  {
    what: "variable",
    file: "t.json",
    content: `{"variables": {"a": "1", "a": "2"}, "builders": [${NULL}]}`,
    path: "variables.a",
    message: DUPLICATE,
    packer: "reject",
  },
  {
    what: "builder option",
    file: "t.json",
    content: '{"builders": [{"type": "null", "communicator": "none", "communicator": "none"}]}',
    path: "builders[0].communicator",
    message: DUPLICATE,
    packer: "reject",
    fast: true,
  },
  {
    what: "provisioner option",
    file: "t.json",
    content: provisioner('"inline": ["echo b"]'),
    path: "provisioners[0].inline",
    message: DUPLICATE,
    packer: "reject",
  },
  {
    what: "post-processor option",
    file: "t.json",
    content: json(
      ', "post-processors": [{"type": "manifest", "output": "a.json", "output": "b.json"}]',
    ),
    path: "post-processors[0].output",
    message: DUPLICATE,
    packer: "reject",
  },
  {
    what: "nested map",
    file: "t.json",
    content: provisioner('"env": {"A": "1", "A": "2"}'),
    path: "provisioners[0].env.A",
    message: DUPLICATE,
    packer: "reject",
    fast: true,
  },
  {
    what: "YAML template",
    file: "t.yaml",
    content: 'builders:\n  - type: "null"\n    communicator: none\n    communicator: none\n',
    path: "builders[0].communicator",
    message: DUPLICATE,
    fast: true,
  },
  {
    what: "var-file (Packer keeps the last value)",
    file: "t.json",
    content: `{"variables": {"a": null}, "builders": [${NULL}]}`,
    extra: { "vars.json": '{"a": "first", "a": "last"}' },
    flags: ["-var-file=vars.json"],
    packer: "accept",
  },
];

/** Numbers no float holds, past int64, past Go's longest duration. */
export const NUMBERS: BadCase[] = [
  {
    what: "ssh_port 1e999999",
    file: "t.json",
    content: sshPort("1e999999"),
    path: "builders[0].ssh_port",
    message: OUT_OF_RANGE,
    packer: "reject",
    fast: true,
  },
  {
    what: "-1e400 in a provisioner option",
    file: "t.json",
    content: provisioner('"max_retries": -1e400'),
    path: "provisioners[0].max_retries",
    message: OUT_OF_RANGE,
    packer: "reject",
  },
  {
    what: "1e400 in a comment",
    file: "t.json",
    content: json(', "_comment": 1e400'),
    path: "_comment",
    message: OUT_OF_RANGE,
    packer: "reject",
  },
  {
    what: 'ssh_port "99999999999999999999"',
    file: "t.json",
    content: sshPort('"99999999999999999999"'),
    path: "builders[0].ssh_port",
    message: /value out of range/,
    packer: "reject",
    fast: true,
  },
  {
    what: "ssh_port 1e300 (Packer: port -9223372036854775808)",
    file: "t.json",
    content: sshPort("1e300"),
    path: "builders[0].ssh_port",
    message: /value out of range/,
    packer: "accept",
  },
  {
    what: "max_retries 1e300",
    file: "t.json",
    content: provisioner('"max_retries": 1e300'),
    path: "provisioners[0].max_retries",
    message: /value out of range/,
    packer: "reject",
  },
  {
    what: 'pause_before "99999999999h"',
    file: "t.json",
    content: provisioner('"pause_before": "99999999999h"'),
    path: "provisioners[0].pause_before",
    message: /value out of range \(a duration is at most 2562047h47m16\.854775807s\)/,
    packer: "reject",
  },
  {
    what: "YAML .inf",
    file: "t.yaml",
    content: 'builders:\n  - type: "null"\n    ssh_host: h\n    ssh_username: u\n' +
      "    ssh_password: secret\n    ssh_port: .inf\n",
    path: "builders[0].ssh_port",
    message: OUT_OF_RANGE,
    fast: true,
  },
  {
    what: "ssh_port 22.5 (cut to 22, as Packer does)",
    file: "t.json",
    content: sshPort("22.5"),
    packer: "accept",
  },
];

const yamlHead = 'builders:\n  - type: "null"\n    communicator: none\n_x:';

function inline(text: string): string {
  return JSON.stringify({
    builders: [{ type: "null", communicator: "none" }],
    provisioners: [{ type: "shell-local", inline: [text] }],
  });
}

/** Nesting far past every limit, in the file and in the engine. */
export const NESTING: BadCase[] = [
  {
    what: "JSON: 1,000,000 nested arrays",
    file: "t.json",
    content: json(`, "_x": ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`),
    path: "_x[0][0]",
    message: /error parsing JSON: objects and arrays nest deeper than 500 levels/,
    fast: true,
  },
  {
    what: "YAML: 1,000,000 nested flow sequences",
    file: "t.yaml",
    content: `${yamlHead} ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}\n`,
    path: "_x[0][0]",
    message: /error parsing YAML: objects and arrays nest deeper than 500 levels/,
    fast: true,
  },
  {
    what: "YAML: 1,000,000 nested block sequences",
    file: "t.yaml",
    content: `${yamlHead}\n ${"- ".repeat(1_000_000)}x\n`,
    path: "_x[0][0]",
    message: /error parsing YAML: objects and arrays nest deeper than 500 levels/,
  },
  {
    what: "YAML: aliases expanding a billion times",
    file: "t.yaml",
    content: ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"].concat(
      Array.from(
        { length: 9 },
        (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(", ")}]`,
      ),
    ).join("\n") + "\nbuilders: []\n",
    path: "l1[0]",
    message: /aliases expand more than 100 times/,
  },
  {
    what: "engine: 20,000 nested parentheses",
    file: "t.json",
    content: inline(`{{ ${"(".repeat(20_000)}upper \`a\`${")".repeat(20_000)} }}`),
    path: "provisioners[0].inline[0]",
    message: /max expression depth exceeded: parentheses nest more than 100 levels/,
    packer: "accept",
    fast: true,
  },
  {
    what: "engine: 20,000 nested {{if}}s",
    file: "t.json",
    content: inline(`${"{{if true}}".repeat(20_000)}x${"{{end}}".repeat(20_000)}`),
    path: "provisioners[0].inline[0]",
    message: /blocks nest more than 100 levels/,
    packer: "accept",
    fast: true,
  },
  {
    what: "engine: an else-if chain of 20,000 links (accepted)",
    file: "t.json",
    content: inline(`{{if false}}${"{{else if false}}".repeat(20_000)}{{else}}ok{{end}}`),
    packer: "accept",
  },
];

function doubling(levels: number): Record<string, string> {
  const vars: Record<string, string> = { v0: "ab" };
  for (let i = 1; i <= levels; i++) vars[`v${i}`] = `{{user \`v${i - 1}\`}}{{user \`v${i - 1}\`}}`;
  return vars;
}

const TOO_LONG = /the rendered value would be longer than 16 MiB/;

function expanding(provisioners: string[], levels = 22): string {
  return JSON.stringify({
    variables: doubling(levels),
    builders: [{ type: "null", communicator: "none" }],
    provisioners: provisioners.map((s) => ({ type: "shell-local", inline: [s] })),
  });
}

/** Rendering that would take gigabytes. */
export const EXPANSION: BadCase[] = [
  {
    what: "a variable doubling itself 30 times",
    file: "t.json",
    content: JSON.stringify({
      variables: doubling(30),
      builders: [{ type: "null", communicator: "none" }],
    }),
    path: "variables.v24",
    message: TOO_LONG,
    // Packer accepts it after tens of gigabytes (14 GB two minutes in): never run it here.
    fast: true,
  },
  {
    what: "replace_all multiplying 8 MiB by 64",
    file: "t.json",
    content: expanding([`{{ replace_all \`a\` \`${"b".repeat(64)}\` (user \`v22\`) }}`]),
    path: "provisioners[0].inline[0]",
    message: TOO_LONG,
  },
  {
    what: "printf with 10,000,000-wide fields",
    file: "t.json",
    content: expanding(["{{ printf `%10000000d%10000000d%10000000d` 1 2 3 }}"], 1),
    path: "provisioners[0].inline[0]",
    message: TOO_LONG,
  },
  {
    what: "1,000 options each rendering 8 MiB",
    file: "t.json",
    content: expanding(Array(1000).fill("x{{user `v22`}}")),
    path: "provisioners[5].inline[0]",
    message: /produces more than 64 MiB of text in all/,
    fast: true,
  },
];
