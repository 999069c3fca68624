/** The passwd-format lines cvm-cdb stores: fields, extra fields, the mailbox. */
import assert from "node:assert/strict";
import {
  fitsField,
  formatAccountLine,
  parseAccountLine,
} from "../../../modules/cdbfile/mod.ts";

Deno.test("parseAccountLine() splits the seven passwd fields and keeps Dovecot's extra fields whole", () => {
  assert.deepEqual(
    parseAccountLine("bob:$6$s$h:1000:100:Bob B,1:/home/bob:/bin/sh"),
    {
      name: "bob",
      password: "$6$s$h",
      uid: "1000",
      gid: "100",
      gecos: "Bob B,1",
      home: "/home/bob",
      shell: "/bin/sh",
      extra: undefined,
    },
  );
  const dovecot = parseAccountLine(
    "al@x.org:{PLAIN}pw:::::" +
      ":userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G",
  );
  assert.equal(dovecot?.uid, "");
  assert.equal(
    dovecot?.extra,
    "userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G",
  );
});

Deno.test("parseAccountLine() refuses fewer than seven fields, no name, and ids that are neither names nor 32-bit decimals", () => {
  for (
    const line of [
      "bob:pw:1:2::/h",
      ":pw:1:2::/h:",
      "bob:pw:1x:2::/h:",
      "bob:pw:a b:2::/h:",
      "bob:pw:1:-2::/h:",
      "bob:pw:4294967296:2::/h:",
      "bob:pw:12345678901:2::/h:",
    ]
  ) {
    assert.equal(parseAccountLine(line), undefined, line);
  }
  assert.equal(parseAccountLine("bob:pw:4294967295:0::/h:")?.uid, "4294967295");
  assert.equal(parseAccountLine("bob:pw:vmail:mail::/h:")?.gid, "mail");
});

Deno.test("formatAccountLine() gives back the very line parseAccountLine() read", () => {
  for (
    const line of [
      "bob:pw:1:2::/h:",
      "bob:pw:1:2:G:/h:/bin/sh:",
      "bob:{X}y:::::: a=b:c  d=e",
    ]
  ) {
    assert.equal(formatAccountLine(parseAccountLine(line)!), line);
  }
});

Deno.test("fitsField() refuses what would break a line: ':', line breaks, NUL", () => {
  assert.ok(fitsField("{SSHA512}abc+/="));
  for (const bad of ["a:b", "a\nb", "a\rb", "a\0b"]) {
    assert.ok(!fitsField(bad), JSON.stringify(bad));
  }
});
