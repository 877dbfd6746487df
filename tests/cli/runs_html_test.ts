/**
 * `kiln runs show RUN --html` on real runs — null builders with shell-local
 * provisioners: one killed with SIGKILL mid-provisioning and resumed (with a
 * flaky provisioner that retries), one failing — and a forged, unsealed log
 * whose names carry markup. The pages are opened in headless Chromium: a
 * screenshot must show the lanes in their status colours, and the hostile
 * page's DOM must hold the markup as text, never as elements.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runKiln } from "../support/kiln_cli.ts";
import { forgeLog, logRecords } from "../support/forge_log.ts";
import { decodePng, type Png } from "../support/png.ts";
import { eventsPath, runDir } from "../../runtime/paths.ts";

const CHROMIUM = "/usr/bin/chromium";
const HOSTILE_ID = "20260101T000000Z-c0ffee";
const SCRIPT = `<script>document.body.setAttribute("data-pwned","1")</script>`;

const TEMPLATE_RESUMED = {
  builders: [
    { type: "null", name: "web", communicator: "none" },
    { type: "null", name: "db", communicator: "none" },
  ],
  provisioners: [
    { type: "shell-local", inline: ["sleep 0.3"] },
    {
      type: "shell-local",
      max_retries: 2,
      // Fails the first time per build: the retry must show on the page.
      inline: [
        "sleep 0.1; [ -f flaky-{{build_name}} ] && exit 0; touch flaky-{{build_name}}; exit 7",
      ],
    },
    { type: "shell-local", inline: ["sleep 0.3"] },
  ],
  "post-processors": [{ type: "shell-local", inline: ["sleep 0.1"] }],
};

const TEMPLATE_FAILING = {
  builders: [{ type: "null", name: "app", communicator: "none" }],
  provisioners: [
    { type: "shell-local", inline: ["sleep 0.1"] },
    { type: "shell-local", inline: ["echo 'disk full' >&2; exit 3"] },
  ],
};

async function runIds(home: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of Deno.readDir(join(home, "runs"))) ids.push(e.name);
  return ids.sort();
}

/** Headless Chromium, its own profile; `args` before the page's file:// URL. */
async function chromium(root: string, page: string, args: string[]): Promise<string> {
  await Deno.stat(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (tests/run.ts does)`);
  });
  const out = await new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      `--user-data-dir=${await Deno.makeTempDir({ dir: root, prefix: "chromium-" })}`,
      ...args,
      `file://${page}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, `chromium failed: ${dec.decode(out.stderr).slice(-2000)}`);
  return dec.decode(out.stdout);
}

/** Pixels within `tol` (per channel) of `rgb`. */
function countNear(png: Png, rgb: [number, number, number], tol = 10): number {
  let n = 0;
  for (let i = 0; i < png.rgba.length; i += 4) {
    if (
      Math.abs(png.rgba[i] - rgb[0]) <= tol && Math.abs(png.rgba[i + 1] - rgb[1]) <= tol &&
      Math.abs(png.rgba[i + 2] - rgb[2]) <= tol
    ) n++;
  }
  return n;
}

/** Distinct colours (quantised to 5 bits a channel) in rows [y0, y1). */
function colourVariety(png: Png, y0: number, y1: number): number {
  const seen = new Set<number>();
  for (let i = y0 * png.width * 4; i < Math.min(y1, png.height) * png.width * 4; i += 4) {
    seen.add((png.rgba[i] >> 3) << 10 | (png.rgba[i + 1] >> 3) << 5 | png.rgba[i + 2] >> 3);
  }
  return seen.size;
}

/** The forged log: the failing run's records under another id, names and messages hostile. */
async function forgeHostileRun(home: string, failedId: string): Promise<void> {
  const records = await logRecords(eventsPath(failedId, home));
  const hostile = records.map((r) => ({
    ...r,
    run: HOSTILE_ID,
    build: r.build === null ? null : `<img src=x onerror="document.title='pwned'">`,
    step: r.step === "common.provision" ? `${SCRIPT}provision` : r.step,
    data: r.type === "RunStarted"
      ? { ...r.data, template: `"><svg onload="document.title='pwned'">.json` }
      : r.type === "StepFailed" || r.type === "BuildFinished"
      ? { ...r.data, error: `</pre>${SCRIPT} token <sensitive:0> leaked?` }
      : r.data,
  }));
  await Deno.mkdir(runDir(HOSTILE_ID, home), { recursive: true });
  // No seal.id: a log copied from elsewhere, shown but marked untrusted.
  await forgeLog(eventsPath(HOSTILE_ID, home), hostile);
}

Deno.test("runs show --html: timeline pages of real runs, checked in headless Chromium", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "kiln-html-" });
  const home = join(root, "home");
  const kiln = (args: string[], env: Record<string, string> = {}) =>
    runKiln(args, { cwd: root, home, env });
  try {
    await Deno.writeTextFile(join(root, "resumed.json"), JSON.stringify(TEMPLATE_RESUMED));
    await Deno.writeTextFile(join(root, "failing.json"), JSON.stringify(TEMPLATE_FAILING));
    // Killed right after the first provisioner of a build finished (as kill -9 would).
    const killed = await kiln(["build", "resumed.json"], {
      KILN_CRASH_AFTER: "ProvisionerSucceeded",
    });
    assert.equal(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
    const [resumedId] = await runIds(home);
    // An idle spell a page draws as a break (one longer than 15% of the work),
    // however quickly this machine starts the next kiln.
    await new Promise((r) => setTimeout(r, 2500));
    const [resumed, failed] = await Promise.all([
      kiln(["build", "--resume", resumedId]),
      kiln(["build", "failing.json"]),
    ]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    const failedId = (await runIds(home)).find((id) => id !== resumedId)!;
    await forgeHostileRun(home, failedId);

    const [shown, shownFailed, shownHostile, missing, both] = await Promise.all([
      kiln(["runs", "show", resumedId, "--html"]),
      kiln(["runs", "show", "--html", "failed.html", failedId]),
      kiln(["runs", "show", HOSTILE_ID, `--html=${join(root, "hostile.html")}`]),
      kiln(["runs", "show", "20990101T000000Z-aaaaaa", "--html"]),
      kiln(["runs", "show", resumedId, "--html", "x.html", "--json"]),
    ]);
    // Bad input: one clear line, no page written.
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^kiln runs: no run 20990101T000000Z-aaaaaa under .*\n$/);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--html and --json: choose one/);
    for (const page of ["20990101T000000Z-aaaaaa.html", "x.html"]) {
      await assert.rejects(Deno.stat(join(root, page)), Deno.errors.NotFound);
    }
    for (const r of [shown, shownFailed, shownHostile]) assert.equal(r.code, 0, r.stderr);
    const resumedPage = join(root, `${resumedId}.html`);
    assert.equal(shown.stdout.trim(), resumedPage, "the default file is ./<run-id>.html");
    assert.equal(shownFailed.stdout.trim(), join(root, "failed.html"));
    assert.equal(shownHostile.stdout.trim(), join(root, "hostile.html"));

    await t.step(
      "the resumed run: both attempts on the same lanes, retries, resources",
      async () => {
        const html = await Deno.readTextFile(resumedPage);
        assert.match(html, /<span class="pill st-succeeded">succeeded<\/span>/);
        assert.match(html, /<dt>attempts<\/dt><dd>2, resumed 1×<\/dd>/);
        assert.match(html, />#1 build</);
        assert.match(html, />#2 resume 1</);
        assert.match(html, />killed</, "the first process's death is marked");
        // The time no process drove the run (kiln starting again) is a labelled break.
        assert.match(html, /<rect class="gap"[^>]*><title>[^<]+ with no process driving the run/);
        for (const lane of ["web", "db"]) {
          assert.match(html, new RegExp(`<tspan class="lane-name">${lane}<`));
        }
        // The provision step the kill cut off, and its re-run after --resume.
        assert.equal(html.match(/class="bar step step st-interrupted"/g)?.length, 2);
        assert.equal(
          html.match(/<title>step common\.provision: succeeded, [^<]*attempt 2/g)?.length,
          2,
        );
        // Each build's flaky provisioner failed once and was retried.
        assert.equal(html.match(/class="mark mk-retry"/g)?.length, 2);
        assert.equal(
          html.match(
            /<title>provisioner shell-local #1: failed, [^<]*\nScript exited with non-zero exit status: 7/g,
          )
            ?.length,
          2,
        );
        assert.equal(html.match(/<title>post-processor shell-local: succeeded/g)?.length, 2);
        // One marker per ledger record of the log, and no process group left live.
        const log = await Deno.readTextFile(eventsPath(resumedId, home));
        const created = log.match(/"type":"ResourceCreated"/g)!.length;
        assert.ok(created >= 8, `only ${created} resources created`);
        assert.equal(html.match(/class="mark mk-created"/g)?.length, created);
        assert.equal(
          html.match(/class="mark mk-deleted"/g)?.length,
          log.match(/"type":"ResourceDeleted"/g)!.length,
        );
        assert.doesNotMatch(html, /<span class="dot mk-live"><\/span>live/);
        assert.doesNotMatch(
          html,
          /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
          "no script, no fetch",
        );
      },
    );

    await t.step("the failed run: the failure, where it happened, the failed bars", async () => {
      const html = await Deno.readTextFile(join(root, "failed.html"));
      assert.match(html, /<span class="pill st-failed">failed<\/span>/);
      assert.match(
        html,
        /<section class="failure"><h2>Failure<\/h2><p><b>app<\/b> failed in <code>common\.provision › provisioner shell-local #1<\/code><\/p><pre>Script exited with non-zero exit status: 3/,
      );
      assert.match(html, /class="bar step step st-failed"><title>step common\.provision: failed/);
      assert.match(html, /class="mark mk-failure"/);
      // The connect step was undone by the compensation that followed.
      assert.match(html, /class="bar step step st-compensated"><title>step common\.connect/);
    });

    await t.step("Chromium renders the resumed run's lanes in their status colours", async () => {
      const shot = join(root, "resumed.png");
      await chromium(root, resumedPage, [`--screenshot=${shot}`, "--window-size=1280,900"]);
      const png = await decodePng(await Deno.readFile(shot));
      assert.deepEqual([png.width, png.height], [1280, 900]);
      // Bars, not just legend swatches (14×14 px): succeeded green and the
      // hatched amber of the attempt the kill cut off cover thousands of pixels.
      assert.ok(countNear(png, [0x2f, 0x9e, 0x5b]) > 8000, "green succeeded bars");
      assert.ok(
        countNear(png, [0xf4, 0xb7, 0x40]) + countNear(png, [0xe0, 0x9a, 0x12]) > 4000,
        "amber interrupted bars",
      );
      // The chart sits below the header and legend: it is not blank.
      assert.ok(colourVariety(png, 280, 560) > 60, "a lane area with many colours");
    });

    await t.step("a hostile log's markup stays text: no element, no script ran", async () => {
      const html = await Deno.readTextFile(join(root, "hostile.html"));
      assert.match(html, /NOT sealed on this machine/);
      assert.match(html, /its log is shown but cannot be trusted/);
      assert.ok(html.includes("&lt;script&gt;document.body.setAttribute(&quot;data-pwned"));
      assert.ok(html.includes("token &lt;sensitive&gt; leaked?"), "references shown masked");
      const dom = await chromium(root, join(root, "hostile.html"), ["--dump-dom"]);
      assert.match(dom, /<body>/);
      assert.doesNotMatch(dom, /data-pwned="1"|<script|<img|<svg onload|pwned<\/title>/);
      assert.match(dom, /&lt;script&gt;document\.body\.setAttribute/);
      assert.match(dom, /&lt;img src=x onerror=/);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
