import assert from "node:assert/strict";
import { accessFileName, AccessTables } from "../../../modules/policy/mod.ts";
import { tempDir } from "../../_helpers.ts";

const enc = new TextEncoder();

Deno.test("accessFileName() folds ASCII only and never makes a path of /, NUL, a leading dot or bad UTF-8", () => {
  assert.equal(accessFileName(enc.encode("Bob")), "bob");
  assert.equal(
    accessFileName(enc.encode("bob@Example.COM")),
    "bob@example.com",
  );
  // Unicode folding would turn the Kelvin sign into k, and İ into i̇.
  assert.equal(accessFileName(enc.encode("\u212Aarl")), "\u212Aarl");
  assert.equal(accessFileName(enc.encode("\u0130van")), "\u0130van");
  for (
    const bad of [
      enc.encode(""),
      enc.encode("."),
      enc.encode(".."),
      enc.encode("../deny/x"),
      enc.encode(".hidden"),
      enc.encode("a/b"),
      enc.encode("/etc/passwd"),
      new Uint8Array([0x62, 0, 0x62]),
      new Uint8Array([0x62, 0xff]),
      new Uint8Array(256).fill(0x61),
    ]
  ) {
    assert.equal(accessFileName(bad), undefined, JSON.stringify([...bad]));
  }
});

Deno.test("AccessTables: deny/NAME denies; allow/ admits only its names; both read afresh", async () => {
  const dir = tempDir();
  try {
    const tables = new AccessTables(dir.path);
    const denies = (account: string, domain?: string) =>
      tables.denies(
        enc.encode(account),
        domain === undefined ? undefined : enc.encode(domain),
      );
    // No tables: nobody is denied.
    assert.equal(await denies("bob"), false);
    Deno.mkdirSync(`${dir.path}/deny`);
    Deno.writeTextFileSync(`${dir.path}/deny/mallory`, "");
    Deno.writeTextFileSync(`${dir.path}/deny/eve@example.com`, "");
    assert.equal(await denies("mallory"), true);
    assert.equal(await denies("MALLORY"), true);
    assert.equal(await denies("mallory", "example.com"), true);
    assert.equal(await denies("eve", "Example.Com"), true);
    assert.equal(await denies("eve", "example.org"), false);
    assert.equal(await denies("eve"), false);
    assert.equal(await denies("bob"), false);
    // A symlink (even a dangling one) is an entry.
    Deno.symlinkSync("/nonexistent", `${dir.path}/deny/trudy`);
    assert.equal(await denies("trudy"), true);
    Deno.mkdirSync(`${dir.path}/allow`);
    assert.equal(await denies("bob"), true);
    Deno.writeTextFileSync(`${dir.path}/allow/bob`, "");
    Deno.writeTextFileSync(`${dir.path}/allow/carol@example.com`, "");
    assert.equal(await denies("bob"), false);
    assert.equal(await denies("Bob", "example.com"), false);
    assert.equal(await denies("carol", "example.com"), false);
    assert.equal(await denies("carol"), true);
    // deny wins over allow.
    Deno.writeTextFileSync(`${dir.path}/allow/mallory`, "");
    assert.equal(await denies("mallory"), true);
  } finally {
    dir.cleanup();
  }
});

Deno.test("AccessTables: path tricks are never looked up, so allow/ refuses them and deny/ cannot be dodged", async () => {
  const dir = tempDir();
  try {
    const tables = new AccessTables(dir.path);
    Deno.mkdirSync(`${dir.path}/allow`);
    Deno.mkdirSync(`${dir.path}/deny`);
    Deno.mkdirSync(`${dir.path}/allow/sub`);
    Deno.writeTextFileSync(`${dir.path}/allow/sub/x`, "");
    Deno.writeTextFileSync(`${dir.path}/allow/.hidden`, "");
    Deno.writeTextFileSync(`${dir.path}/secret`, "");
    for (
      const name of [
        "..",
        ".",
        "../secret",
        "sub/x",
        ".hidden",
        "/etc/passwd",
        "",
        "a\0b",
        "\u212A",
      ]
    ) {
      assert.equal(
        await tables.denies(enc.encode(name), undefined),
        true,
        JSON.stringify(name),
      );
    }
    // "k" is allowed; KELVIN SIGN is not folded into it.
    Deno.writeTextFileSync(`${dir.path}/allow/k`, "");
    assert.equal(await tables.denies(enc.encode("K"), undefined), false);
    assert.equal(await tables.denies(enc.encode("\u212A"), undefined), true);
    // A domain holding "/" makes the account@domain form unusable, not a path.
    Deno.writeTextFileSync(`${dir.path}/allow/bob`, "");
    assert.equal(
      await tables.denies(enc.encode("bob"), enc.encode("../../x")),
      false,
    );
  } finally {
    dir.cleanup();
  }
});
