import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError, context } from "./call.ts";

Deno.test("timestamp is the evaluation's clock, in UTC", () => {
  assertEquals(
    call("timestamp", [], context("/", new Date("2026-01-02T03:04:05.678Z"))),
    "2026-01-02T03:04:05Z",
  );
});

Deno.test("formatdate: documented examples", () => {
  assertEquals(
    call("formatdate", ["DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"]),
    "02 Jan 2018 23:12 UTC",
  );
  assertEquals(
    call("formatdate", ["EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"]),
    "Tuesday, 02-Jan-18 23:12:01 -0800",
  );
  assertEquals(
    call("formatdate", ["EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"]),
    "Tue, 02 Jan 2018 23:12:01 UTC",
  );
  assertEquals(call("formatdate", ["MMM DD, YYYY", "2018-01-02T23:12:01Z"]), "Jan 02, 2018");
  assertEquals(call("formatdate", ["HH:mmaa", "2018-01-02T23:12:01Z"]), "11:12pm");
});

Deno.test("formatdate: every verb, offsets and quoted literals", () => {
  assertEquals(
    call("formatdate", ["h:mmaa 'o''clock' Z ZZZZ ZZZZZ", "2018-01-02T03:04:05.5+05:30"]),
    "3:04am o'clock +05:30 +0530 +05:30",
  );
  assertEquals(call("formatdate", ["MMMM M D H s AA", "2018-07-04T00:05:09Z"]), "July 7 4 12 9 AM");
  assertEquals(call("formatdate", ["''", "2018-01-02T00:00:00Z"]), "'");
  assertEquals(
    callError("formatdate", ["YY", "2018-01-02"]).message,
    `Invalid value for "time" parameter: not a valid RFC3339 timestamp: missing required time introducer 'T'`,
  );
  assertEquals(
    callError("formatdate", ["x", "2018-01-02T00:00:00Z"]).message,
    'Invalid value for "format" parameter: invalid date format verb "x"',
  );
  assertEquals(callError("formatdate", ["YYY", "2018-01-02T00:00:00Z"]).argument, 0);
  assertEquals(callError("formatdate", ["YYYY", "2018-13-02T00:00:00Z"]).argument, 1);
});

Deno.test("timeadd keeps the timestamp's offset", () => {
  assertEquals(call("timeadd", ["2017-11-22T00:00:00Z", "10m"]), "2017-11-22T00:10:00Z");
  assertEquals(call("timeadd", ["2017-11-22T00:00:00Z", "1h30m"]), "2017-11-22T01:30:00Z");
  assertEquals(call("timeadd", ["2017-11-22T00:00:00+01:00", "-1s"]), "2017-11-21T23:59:59+01:00");
  assertEquals(call("timeadd", ["2017-11-22T00:00:00.9Z", "1.5s"]), "2017-11-22T00:00:02Z");
  assertEquals(call("timeadd", ["2020-02-28T23:00:00Z", "2h"]), "2020-02-29T01:00:00Z");
  assertEquals(
    callError("timeadd", ["2017-11-22T00:00:00Z", "soon"]).message,
    'time: invalid duration "soon"',
  );
  assertEquals(
    callError("timeadd", ["2017-11-22T00:00:00Z", "1d"]).message,
    'time: unknown unit "d" in duration "1d"',
  );
});

Deno.test("legacy_isotime and legacy_strftime format the evaluation's clock in UTC", () => {
  const ctx = context("/", new Date("2026-01-02T03:04:05.678Z"));
  assertEquals(call("legacy_isotime", ["2006-01-02-1504"], ctx), "2026-01-02-0304");
  assertEquals(call("legacy_isotime", ["20060102150405"], ctx), "20260102030405");
  assertEquals(call("legacy_strftime", ["%Y%m%d-%H%M%S"], ctx), "20260102-030405");
});
