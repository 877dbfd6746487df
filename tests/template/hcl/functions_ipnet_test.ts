import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("cidrhost: IPv4 and IPv6, negative numbers count from the end", () => {
  assertEquals(call("cidrhost", ["10.12.112.0/20", 16]), "10.12.112.16");
  assertEquals(call("cidrhost", ["10.12.112.0/20", 268]), "10.12.113.12");
  assertEquals(call("cidrhost", ["fd00:fd12:3456:7890:00a2::/72", 34]), "fd00:fd12:3456:7890::22");
  assertEquals(call("cidrhost", ["10.0.0.0/30", -1]), "10.0.0.3");
  assertEquals(call("cidrhost", ["10.0.0.5/24", 1]), "10.0.0.1");
  assertEquals(call("cidrhost", ["0.0.0.0/0", 4294967295]), "255.255.255.255");
  assertEquals(call("cidrhost", ["2001:db8::/32", 65536]), "2001:db8::1:0");
  assertEquals(
    callError("cidrhost", ["10.0.0.0/30", 4]).message,
    "prefix of 30 does not accommodate a host numbered 4",
  );
  assertEquals(
    callError("cidrhost", ["bad", 1]).message,
    "invalid CIDR expression: invalid CIDR address: bad",
  );
  assertEquals(callError("cidrhost", ["10.0.0.0/33", 1]).argument, 0);
});

Deno.test("cidrnetmask", () => {
  assertEquals(call("cidrnetmask", ["172.16.0.0/12"]), "255.240.0.0");
  assertEquals(call("cidrnetmask", ["10.0.0.0/32"]), "255.255.255.255");
  assertEquals(call("cidrnetmask", ["fd00::/64"]), "ffff:ffff:ffff:ffff::");
});

Deno.test("cidrsubnet: documented examples and errors", () => {
  assertEquals(call("cidrsubnet", ["172.16.0.0/12", 4, 2]), "172.18.0.0/16");
  assertEquals(call("cidrsubnet", ["10.1.2.0/24", 4, 15]), "10.1.2.240/28");
  assertEquals(
    call("cidrsubnet", ["fd00:fd12:3456:7890::/56", 16, 162]),
    "fd00:fd12:3456:7800:a200::/72",
  );
  assertEquals(call("cidrsubnet", ["::ffff:10.0.0.0/104", 8, 1]), "10.1.0.0/16");
  assertEquals(
    callError("cidrsubnet", ["10.0.0.0/24", 4, 16]).message,
    "prefix extension of 4 does not accommodate a subnet numbered 16",
  );
  assertEquals(
    callError("cidrsubnet", ["10.0.0.0/30", 4, 1]).message,
    "insufficient address space to extend prefix of 30 by 4",
  );
});

Deno.test("cidrsubnets allocates consecutive aligned blocks", () => {
  assertEquals(call("cidrsubnets", ["10.1.0.0/16", 4, 4, 8, 4]), [
    "10.1.0.0/20",
    "10.1.16.0/20",
    "10.1.32.0/24",
    "10.1.48.0/20",
  ]);
  assertEquals(call("cidrsubnets", ["fd00:fd12:3456:7890::/56", 16, 16, 16, 32]), [
    "fd00:fd12:3456:7800::/72",
    "fd00:fd12:3456:7800:100::/72",
    "fd00:fd12:3456:7800:200::/72",
    "fd00:fd12:3456:7800:300::/88",
  ]);
  assertEquals(callError("cidrsubnets", ["10.0.0.0/30", 1, 1, 1]).argument, 3);
});
