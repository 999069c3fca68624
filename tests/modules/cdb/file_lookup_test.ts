/**
 * cdbFileGet() and cdbFileFirst(): lookups on disk that read only what
 * they need, on our files and on tinycdb's.
 */
import assert from "node:assert/strict";
import {
  Cdb,
  cdbFileFirst,
  cdbFileGet,
  makeCdb,
} from "../../../modules/cdb/mod.ts";
import { have, tempDir } from "../../_helpers.ts";

const dec = new TextDecoder();
const TINYCDB = "/usr/bin/cdb";

function records(count: number): [string, string][] {
  return Array.from({ length: count }, (_, i) => [`user${i}`, `line ${i}`]);
}

/** An open file that counts the bytes read through it. */
function countingFile(path: string): { file: Deno.FsFile; read: () => number } {
  const file = Deno.openSync(path);
  let bytes = 0;
  const readSync = file.readSync.bind(file);
  file.readSync = (buffer: Uint8Array) => {
    const n = readSync(buffer);
    bytes += n ?? 0;
    return n;
  };
  return { file, read: () => bytes };
}

Deno.test("cdbFileGet() finds what Cdb.get() finds, first record of a key included, and nothing else", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/t.cdb`;
    const data: [string, string][] = [
      ...records(3000),
      ["user7", "second"],
      ["", "empty key"],
    ];
    Deno.writeFileSync(path, makeCdb(data));
    const db = Cdb.fromBytes(Deno.readFileSync(path));
    using file = Deno.openSync(path);
    for (const key of ["user0", "user7", "user2999", "", "user3000", "nope"]) {
      assert.deepEqual(cdbFileGet(file, key), db.get(key), key);
    }
    assert.equal(dec.decode(cdbFileGet(file, "user7")), "line 7");
    assert.equal(cdbFileGet(file, "user3000"), undefined);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cdbFileGet() reads a few hundred bytes at most, in a 100,000-record file as in a 2-record one", () => {
  const dir = tempDir();
  try {
    const small = `${dir.path}/small.cdb`;
    const large = `${dir.path}/large.cdb`;
    Deno.writeFileSync(small, makeCdb(records(2)));
    Deno.writeFileSync(large, makeCdb(records(100_000)));
    const cost = (path: string, key: string) => {
      const counted = countingFile(path);
      try {
        assert.ok(cdbFileGet(counted.file, key));
        return counted.read();
      } finally {
        counted.file.close();
      }
    };
    const smallCost = cost(small, "user1");
    const largeCost = cost(large, "user99999");
    assert.ok(Deno.statSync(large).size > 1_000_000);
    // The header entry, the slots probed (8 bytes each), the one record.
    assert.ok(smallCost < 512, `small: ${smallCost} bytes`);
    assert.ok(largeCost < 512, `large: ${largeCost} bytes`);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cdbFileGet() and cdbFileFirst() read a file tinycdb made", async () => {
  if (!have(TINYCDB)) return;
  const dir = tempDir();
  try {
    const path = `${dir.path}/tiny.cdb`;
    const input = records(500).map(([k, v]) =>
      `+${k.length},${v.length}:${k}->${v}\n`
    )
      .join("") + "\n";
    const child = new Deno.Command(TINYCDB, {
      args: ["-c", path],
      stdin: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    assert.equal((await child.status).code, 0);
    using file = Deno.openSync(path);
    assert.equal(dec.decode(cdbFileGet(file, "user321")), "line 321");
    assert.equal(cdbFileGet(file, "user500"), undefined);
    const [key, value] = cdbFileFirst(file)!;
    assert.deepEqual([dec.decode(key), dec.decode(value)], ["user0", "line 0"]);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cdbFileFirst() is undefined for an empty database", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/empty.cdb`;
    Deno.writeFileSync(path, makeCdb([]));
    using file = Deno.openSync(path);
    assert.equal(cdbFileFirst(file), undefined);
    assert.equal(cdbFileGet(file, "x"), undefined);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cdbFileGet() throws 'corrupt cdb' for a record that runs past the end, instead of reading it", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/bad.cdb`;
    const bytes = makeCdb([["k", "v"]]);
    // The record's data length, made huge.
    new DataView(bytes.buffer).setUint32(2048 + 4, 0x7fffffff, true);
    Deno.writeFileSync(path, bytes);
    using file = Deno.openSync(path);
    assert.throws(() => cdbFileGet(file, "k"), /corrupt cdb/);
    // A file cut short inside the hash tables.
    Deno.writeFileSync(path, makeCdb(records(10)).subarray(0, 2100));
    using short = Deno.openSync(path);
    assert.throws(() => cdbFileGet(short, "user3"), /corrupt cdb/);
  } finally {
    dir.cleanup();
  }
});
