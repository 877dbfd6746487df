import assert from "node:assert/strict";
import {
  BootCommandError,
  type BootCommandToken,
  parseBootCommand,
} from "../../../hypervisors/qemu/boot_command.ts";
import { bootKeySteps, keyIntervalMs, type KeyStep } from "../../../hypervisors/qemu/boot_keys.ts";
import { withTempDir } from "../../support/temp_dir.ts";

/** Tokens in the notation of Packer's own parser tests (boot_command_ast_test.go). */
function packerNotation(tokens: BootCommandToken[]): string[] {
  const action = (a: string) => a === "press" ? "Press" : a === "on" ? "On" : "Off";
  return tokens.map((t) =>
    t.kind === "wait"
      ? `Wait<${t.ms}ms>`
      : t.kind === "special"
      ? `Spec-${action(t.action)}(${t.key})`
      : `LIT-${action(t.action)}(${t.char})`
  );
}

function events(command: string | string[]): [number, boolean][] {
  return bootKeySteps(parseBootCommand(command).tokens).map((s) => {
    assert.equal(s.type, "key");
    return [(s as Extract<KeyStep, { type: "key" }>).keysym, s.down];
  });
}

Deno.test("Packer's parser test input gives Packer's expected tokens", () => {
  const input = "<wait><wait20><wait3s><wait4m2ns>" + "foo/bar > one 界" + "<fon> b<fOff>" +
    "<foo><f3><f12><spacebar><leftalt><rightshift><rightsuper><menu>";
  const expected = [
    "Wait<1000ms>",
    "Wait<20000ms>",
    "Wait<3000ms>",
    `Wait<${4 * 60_000 + 2e-6}ms>`,
    ..."foo/bar > one 界".split("").map((c) => `LIT-Press(${c})`),
    "LIT-On(f)",
    "LIT-Press( )",
    "LIT-Press(b)",
    "LIT-Off(f)",
    ..."<foo>".split("").map((c) => `LIT-Press(${c})`),
    "Spec-Press(f3)",
    "Spec-Press(f12)",
    "Spec-Press(spacebar)",
    "Spec-Press(leftalt)",
    "Spec-Press(rightshift)",
    "Spec-Press(rightsuper)",
    "Spec-Press(menu)",
  ];
  assert.deepEqual(packerNotation(parseBootCommand(input).tokens), expected);
});

Deno.test("special keys and On/Off are case-insensitive; wait is not", () => {
  assert.deepEqual(
    packerNotation(parseBootCommand("<rightShift><rightshift><RIGHTSHIFT>").tokens),
    Array(3).fill("Spec-Press(rightshift)"),
  );
  assert.deepEqual(
    packerNotation(parseBootCommand("<delon><delON><deLoN><DELON>").tokens),
    Array(4).fill("Spec-On(del)"),
  );
  assert.deepEqual(
    packerNotation(parseBootCommand("<enteroff><enterOFF><eNtErOfF><ENTEROFF>").tokens),
    Array(4).fill("Spec-Off(enter)"),
  );
  assert.deepEqual(
    packerNotation(parseBootCommand("<Wait>").tokens),
    "<Wait>".split("").map((c) => `LIT-Press(${c})`),
  );
});

Deno.test("every special key Packer documents has its X11 keysym", () => {
  const table: [string, number][] = [
    ["bs", 0xff08],
    ["del", 0xffff],
    ["enter", 0xff0d],
    ["return", 0xff0d],
    ["esc", 0xff1b],
    ["tab", 0xff09],
    ["spacebar", 0x20],
    ["insert", 0xff63],
    ["home", 0xff50],
    ["end", 0xff57],
    ["pageUp", 0xff55],
    ["pageDown", 0xff56],
    ["up", 0xff52],
    ["down", 0xff54],
    ["left", 0xff51],
    ["right", 0xff53],
    ["menu", 0xff67],
    ["leftAlt", 0xffe9],
    ["rightAlt", 0xffea],
    ["leftCtrl", 0xffe3],
    ["rightCtrl", 0xffe4],
    ["leftShift", 0xffe1],
    ["rightShift", 0xffe2],
    ["leftSuper", 0xffeb],
    ["rightSuper", 0xffec],
    ["leftCommand", 0xffe9],
    ["rightCommand", 0xffea],
    ["leftOption", 0xffe7],
    ["rightOption", 0xffe8],
    ...Array.from({ length: 12 }, (_, i) => [`f${i + 1}`, 0xffbe + i] as [string, number]),
  ];
  for (const [name, keysym] of table) {
    assert.deepEqual(events(`<${name}>`), [[keysym, true], [keysym, false]], name);
    assert.deepEqual(events(`<${name}On>`), [[keysym, true]], `${name}On`);
    assert.deepEqual(events(`<${name}Off>`), [[keysym, false]], `${name}Off`);
  }
});

Deno.test("shifted characters are wrapped in Shift_L as Packer's VNC driver does", () => {
  // Packer's vnc_driver_test.go cases.
  assert.deepEqual(events("<rightShift><rightshiftoff><RIGHTSHIFTON><menu>"), [
    [0xffe2, true],
    [0xffe2, false],
    [0xffe2, false],
    [0xffe2, true],
    [0xff67, true],
    [0xff67, false],
  ]);
  assert.deepEqual(events("AbC"), [
    [0xffe1, true],
    [0x41, true],
    [0x41, false],
    [0xffe1, false],
    [0x62, true],
    [0x62, false],
    [0xffe1, true],
    [0x43, true],
    [0x43, false],
    [0xffe1, false],
  ]);
  // The key is released before shift (the SDK's fix over Packer 1.6.6).
  assert.deepEqual(events("<Aon><Aoff>"), [
    [0xffe1, true],
    [0x41, true],
    [0x41, false],
    [0xffe1, false],
  ]);
  for (const c of '~!@#$%^&*()_+{}|:"<>?') {
    assert.deepEqual(events(c)[0], [0xffe1, true], c);
  }
  for (const c of "`1234567890-=[]\\;',./ az") assert.equal(events(c).length, 2, c);
  assert.deepEqual(events("É")[0], [0xffe1, true]);
});

Deno.test("ctrl+c and alt+F2 with hold and release", () => {
  assert.deepEqual(events("<leftCtrlOn>c<leftCtrlOff>"), [
    [0xffe3, true],
    [0x63, true],
    [0x63, false],
    [0xffe3, false],
  ]);
  assert.deepEqual(events("<leftAltOn><f2><leftAltOff>"), [
    [0xffe9, true],
    [0xffbf, true],
    [0xffbf, false],
    [0xffe9, false],
  ]);
});

Deno.test("waits: default, seconds, Go durations and fractions", () => {
  const waits = (s: string) =>
    parseBootCommand(s).tokens.map((t) => t.kind === "wait" ? t.ms : t.text);
  assert.deepEqual(waits("<wait><wait5><wait10>"), [1000, 5000, 10_000]);
  assert.deepEqual(waits("<wait1m30s><wait300ms><wait1.5h><wait2h45m>"), [
    90_000,
    300,
    5_400_000,
    9_900_000,
  ]);
  assert.deepEqual(waits("<wait10us><wait10µs><wait2ms500us>"), [0.01, 0.01, 2.5]);
  // Packer's quirk: a bare 0 is no number to its grammar, so <wait0> is the 1 s default.
  assert.deepEqual(waits("<wait0>"), [1000]);
  // Not waits in Packer's grammar: typed as text.
  for (
    const literal of ["<wait1.5>", "<wait 5>", "<wait05>", "<wait.5s>", "<wait5x>", "<wait5S>"]
  ) {
    assert.equal(waits(literal).join(""), literal);
  }
});

Deno.test("a bad wait is an error naming the element and column", () => {
  const cases: [string[], RegExp][] = [
    [
      ["<esc>", "ab<wait0s>"],
      /^boot_command\[1\] column 3: "<wait0s>" waits 0s; a wait must be positive$/,
    ],
    [["<wait-1m>"], /boot_command\[0\] column 1: "<wait-1m>" waits -1m; a wait must be positive/],
    [["x<wait1m-30s>"], /column 2: "<wait1m-30s>" is not a duration/],
    [["<wait99999999999h>"], /waits longer than Go's longest duration/],
    [["<wait9999999999999999999>"], /waits longer than Go's longest duration/],
  ];
  for (const [command, message] of cases) {
    assert.throws(() => parseBootCommand(command), (e: unknown) => {
      assert.ok(e instanceof BootCommandError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("elements are joined before parsing, as Packer does", () => {
  const parsed = parseBootCommand(["<wai", "t5>", "", "<enter>"]);
  assert.deepEqual(packerNotation(parsed.tokens), ["Wait<5000ms>", "Spec-Press(enter)"]);
  assert.deepEqual(parsed.tokens[1].at, { element: 3, column: 1 });
});

Deno.test("something that looks like a token but is not one is typed, with a warning", () => {
  const parsed = parseBootCommand(["<esc>", "x <enterr>"]);
  assert.equal(parsed.tokens.slice(1).map((t) => t.text).join(""), "x <enterr>");
  assert.deepEqual(parsed.warnings, [
    'boot_command[1] column 3: "<enterr>" is not a special key or wait; it is typed character by character, as Packer does',
  ]);
  assert.deepEqual(parseBootCommand("a < b > c <").warnings, []);
  assert.deepEqual(parseBootCommand("<").tokens.map((t) => t.text), ["<"]);
  assert.deepEqual(parseBootCommand("").tokens, []);
});

Deno.test("Packer's documented Ubuntu example types every character it shows", () => {
  const command = [
    "<esc><esc><enter><wait>",
    "/install/vmlinuz noapic ",
    "preseed/url=http://10.0.2.2:8123/preseed.cfg ",
    "hostname=kiln initrd=/install/initrd.gz -- <enter>",
  ];
  const tokens = parseBootCommand(command).tokens;
  assert.deepEqual(packerNotation(tokens.slice(0, 4)), [
    "Spec-Press(esc)",
    "Spec-Press(esc)",
    "Spec-Press(enter)",
    "Wait<1000ms>",
  ]);
  const typed = tokens.slice(4, -1).map((t) => t.kind === "char" ? t.char : "?").join("");
  assert.equal(typed, command.slice(1).join("").replace("<enter>", ""));
  const steps = bootKeySteps(tokens);
  assert.deepEqual(steps.at(-1), { type: "key", keysym: 0xff0d, down: false });
  // ':' needs shift: down, ':', ':' up, shift up.
  const colon = steps.findIndex((s) => s.type === "key" && s.keysym === 0x3a);
  assert.deepEqual(steps[colon - 1], { type: "key", keysym: 0xffe1, down: true });
});

Deno.test("key interval: boot_key_interval, then PACKER_KEY_INTERVAL, then 100 ms", () => {
  assert.equal(keyIntervalMs(undefined, undefined), 100);
  assert.equal(keyIntervalMs(undefined, "10ms"), 10);
  assert.equal(keyIntervalMs(undefined, "0"), 0);
  assert.equal(keyIntervalMs(undefined, "10"), 100, "a bare number is no Go duration");
  assert.equal(keyIntervalMs(25, "10ms"), 25);
  assert.equal(keyIntervalMs(0, "10ms"), 10, "zero does not override");
});

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "packer validate refuses exactly the boot commands kiln refuses",
  ignore: !packerInstalled,
  fn: () =>
    withTempDir(async (dir) => {
      const commands = [
        "<wait0>",
        "<wait0s>",
        "<wait-1m>",
        "<wait1m-30s>",
        "<wait99999999999h>",
        "<wait9999999999999999999>",
        "<wait1.5>",
        "<enterr>",
        "<wait0.5s>",
        "<wait-0s>",
        "<leftShiftOn>a<leftShiftOff><f13>",
        "<wait4m2ns>",
      ];
      for (const command of commands) {
        const template = {
          builders: [{
            type: "qemu",
            iso_url: "x.iso",
            iso_checksum: "none",
            ssh_username: "u",
            boot_command: [command],
          }],
        };
        await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify(template));
        const packer = await new Deno.Command("packer", {
          args: ["validate", "t.json"],
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
          env: { CHECKPOINT_DISABLE: "1" },
        }).output();
        let kilnOk = true;
        try {
          parseBootCommand(command);
        } catch {
          kilnOk = false;
        }
        assert.equal(kilnOk, packer.success, command);
      }
    }),
});
