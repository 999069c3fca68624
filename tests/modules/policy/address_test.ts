import assert from "node:assert/strict";
import {
  inNetworks,
  parseIp,
  parseNetworks,
  penaltyAddressKey,
} from "../../../modules/policy/mod.ts";
import { CvmError } from "../../../protocol/mod.ts";

Deno.test("parseIp() takes IPv4 and IPv6 text and nothing that could forge a log line", () => {
  assert.deepEqual(parseIp("192.0.2.1")?.bytes, new Uint8Array([192, 0, 2, 1]));
  assert.equal(parseIp("2001:db8::1")?.family, 6);
  assert.equal(parseIp("::")?.family, 6);
  assert.equal(parseIp("1:2:3:4:5:6:7:8")?.family, 6);
  assert.deepEqual(
    parseIp("::ffff:192.0.2.1"),
    { family: 4, bytes: new Uint8Array([192, 0, 2, 1]) },
  );
  for (
    const junk of [
      "",
      "192.0.2.1\n- root",
      "192.0.2.1 ",
      "192.0.2",
      "192.0.2.256",
      "010.0.0.1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "fe80::1%eth0",
      "[::1]",
      "example.com",
      "12345::",
    ]
  ) {
    assert.equal(parseIp(junk), undefined, JSON.stringify(junk));
  }
});

Deno.test("penaltyAddressKey() keeps IPv4 whole and IPv6 per /64", () => {
  assert.equal(penaltyAddressKey(parseIp("192.0.2.1")!), "192.0.2.1");
  assert.equal(
    penaltyAddressKey(parseIp("2001:db8:0:1:aaaa::1")!),
    penaltyAddressKey(parseIp("2001:db8:0:1:bbbb:cccc:dddd:eeee")!),
  );
  assert.notEqual(
    penaltyAddressKey(parseIp("2001:db8:0:1::1")!),
    penaltyAddressKey(parseIp("2001:db8:0:2::1")!),
  );
});

Deno.test("parseNetworks() and inNetworks() match CIDR lists, bare hosts and mapped addresses", () => {
  const nets = parseNetworks(
    "192.0.2.0/24, 2001:db8::/32 198.51.100.7",
    "CVM_PENALTY_TRUSTED",
  );
  assert.ok(inNetworks(parseIp("192.0.2.200")!, nets));
  assert.ok(inNetworks(parseIp("::ffff:192.0.2.9")!, nets));
  assert.ok(inNetworks(parseIp("2001:db8:ffff::1")!, nets));
  assert.ok(inNetworks(parseIp("198.51.100.7")!, nets));
  assert.ok(!inNetworks(parseIp("198.51.100.8")!, nets));
  assert.ok(!inNetworks(parseIp("192.0.3.1")!, nets));
  assert.ok(!inNetworks(parseIp("2001:db9::1")!, nets));
  assert.ok(inNetworks(parseIp("10.9.8.7")!, parseNetworks("0.0.0.0/0", "X")));
  assert.ok(
    inNetworks(parseIp("192.0.2.130")!, parseNetworks("192.0.2.128/25", "X")),
  );
  assert.ok(
    !inNetworks(parseIp("192.0.2.127")!, parseNetworks("192.0.2.128/25", "X")),
  );
});

Deno.test("parseNetworks() names the variable for an entry that is no network", () => {
  for (const bad of ["192.0.2.0/33", "example.com", "10.0.0.0/8/1", "::/129"]) {
    assert.throws(
      () => parseNetworks(bad, "CVM_PENALTY_TRUSTED"),
      (e) =>
        e instanceof CvmError && e.code === 6 &&
        e.message.includes("$CVM_PENALTY_TRUSTED"),
      bad,
    );
  }
});
