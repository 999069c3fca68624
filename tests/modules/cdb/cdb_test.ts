/**
 * Tests for the cdb reader (modules/cdb/reader.ts) and writer (modules/cdb/writer.ts),
 * checked against tinycdb's `cdb` tool (Debian package `tinycdb`).
 */

import assert from "node:assert/strict";
import {
  Cdb,
  cdbHash,
  makeCdb,
  writeCdbAtomic,
} from "../../../modules/cdb/mod.ts";
import {
  fileIdentity,
  sameFileIdentity,
} from "../../../modules/file_cache/mod.ts";

const TINYCDB = "/usr/bin/cdb";
const enc = new TextEncoder();
const dec = new TextDecoder();

type Rec = [Uint8Array, Uint8Array];

function bytes(v: Uint8Array | string): Uint8Array {
  return typeof v === "string" ? enc.encode(v) : v;
}

function recs(...pairs: [Uint8Array | string, Uint8Array | string][]): Rec[] {
  return pairs.map(([k, d]) => [bytes(k), bytes(d)]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** tinycdb's native input: `+klen,dlen:key->data\n` lines, then `\n`. */
function tinycdbInput(records: Rec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, d] of records) {
    parts.push(enc.encode(`+${k.length},${d.length}:`), k, enc.encode("->"));
    parts.push(d, enc.encode("\n"));
  }
  parts.push(enc.encode("\n"));
  return concat(parts);
}

async function run(
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(TINYCDB, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: out.stdout,
    stderr: dec.decode(out.stderr),
  };
}

/** Builds a cdb with `cdb -c` and returns its bytes. */
async function tinycdbMake(dir: string, records: Rec[]): Promise<Uint8Array> {
  const path = `${dir}/tiny-${crypto.randomUUID()}.cdb`;
  const r = await run(["-c", path], tinycdbInput(records));
  assert.equal(r.code, 0, `cdb -c failed: ${r.stderr}`);
  return await Deno.readFile(path);
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "cdb_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Deterministic pseudo-random bytes (xorshift32). */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

function tenThousand(): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < 10_000; i++) {
    out.push([enc.encode(`user${i}@example.org`), enc.encode(`pw-${i * 7}`)]);
  }
  return out;
}

// "!!c" and "!\"@" have the same cdb hash (found by search; asserted below).
const COLLIDING_A = "!!c";
const COLLIDING_B = '!"@';

function binaryRecords(): Rec[] {
  const next = prng(12345);
  const out: Rec[] = [
    [new Uint8Array([0]), new Uint8Array([0, 0, 0])],
    [new Uint8Array([0xff, 0x00, 0x0a, 0x2d, 0x3e]), enc.encode("\n->\n")],
    [enc.encode("a\nb"), new Uint8Array([0xfe, 0xff])],
  ];
  for (let i = 0; i < 200; i++) {
    out.push([
      randomBytes(next, 1 + (next() % 40)),
      randomBytes(next, next() % 300),
    ]);
  }
  return out;
}

const DATASETS: Record<string, () => Rec[]> = {
  "no records": () => [],
  "one record": () => recs(["alice", "secret"]),
  "duplicate keys": () =>
    recs(["a", "1"], ["b", "x"], ["a", "2"], ["a", "3"], ["b", "y"]),
  "empty keys and values": () => recs(["", ""], ["", "v"], ["k", ""], ["", ""]),
  "binary keys and values": binaryRecords,
  "UTF-8 strings": () => recs(["ключ", "значение"], ["日本", "語"]),
  "keys with equal hashes": () =>
    recs([COLLIDING_A, "A"], [COLLIDING_B, "B"], [COLLIDING_A, "A2"]),
  "10,000 records": tenThousand,
};

Deno.test("tinycdb's cdb tool is installed for these tests", async () => {
  const info = await Deno.stat(TINYCDB).catch(() => null);
  assert.ok(
    info?.isFile,
    `${TINYCDB} missing: apt-get install -y tinycdb`,
  );
});

Deno.test("cdbHash() follows h = ((h << 5) + h) ^ byte from 5381 in 32 bits", () => {
  assert.equal(cdbHash(""), 5381);
  assert.equal(cdbHash("a"), ((5381 * 33) ^ 97) >>> 0);
  let h = 5381;
  const key = "a fairly long key that overflows 32 bits many times";
  for (const b of enc.encode(key)) {
    h = Number((BigInt(h) * 33n) & 0xffffffffn) ^ b;
  }
  assert.equal(cdbHash(key), h >>> 0);
  assert.equal(cdbHash(enc.encode(key)), cdbHash(key));
  assert.equal(cdbHash(COLLIDING_A), cdbHash(COLLIDING_B));
});

Deno.test("makeCdb() output is byte-identical to tinycdb's cdb -c", async () => {
  await withTempDir(async (dir) => {
    for (const [name, make] of Object.entries(DATASETS)) {
      const records = make();
      const ours = makeCdb(records);
      const theirs = await tinycdbMake(dir, records);
      assert.equal(ours.length, theirs.length, `${name}: length differs`);
      assert.ok(
        ours.every((b, i) => b === theirs[i]),
        `${name}: bytes differ`,
      );
    }
  });
});

Deno.test("makeCdb() accepts strings and bytes alike, UTF-8 encoding strings", () => {
  assert.deepEqual(
    makeCdb([["ключ", "v"], [enc.encode("k"), "w"]]),
    makeCdb([[enc.encode("ключ"), enc.encode("v")], ["k", enc.encode("w")]]),
  );
});

Deno.test("makeCdb() sizes each hash table at 2 × its record count", () => {
  const records = tenThousand();
  const counts = new Array(256).fill(0);
  for (const [k] of records) counts[cdbHash(k) % 256]++;
  const view = new DataView(makeCdb(records).buffer);
  for (let t = 0; t < 256; t++) {
    assert.equal(view.getUint32(t * 8 + 4, true), counts[t] * 2);
  }
});

Deno.test("Cdb reads every record of files made by tinycdb's cdb -c", async () => {
  await withTempDir(async (dir) => {
    for (const [name, make] of Object.entries(DATASETS)) {
      const records = make();
      const db = Cdb.fromBytes(await tinycdbMake(dir, records));
      assert.deepEqual([...db], records, `${name}: iteration differs`);
      const expected = new Map<string, Uint8Array[]>();
      for (const [k, d] of records) {
        const id = k.join(",");
        expected.set(id, [...(expected.get(id) ?? []), d]);
      }
      for (const [k] of records) {
        const all = expected.get(k.join(","))!;
        assert.deepEqual(db.getAll(k), all, `${name}: getAll`);
        assert.deepEqual(db.get(k), all[0], `${name}: get`);
        assert.equal(db.has(k), true, `${name}: has`);
      }
    }
  });
});

Deno.test("tinycdb's cdb -q and -d read files made by makeCdb()", async () => {
  await withTempDir(async (dir) => {
    const records = binaryRecords().concat(
      recs(["dup", "one"], ["dup", "two"], ["", "empty key"]),
    );
    const path = `${dir}/ours.cdb`;
    await Deno.writeFile(path, makeCdb(records));
    const dump = await run(["-d", path]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.deepEqual(dump.stdout, tinycdbInput(records));
    const q = await run(["-q", "-n", "2", path, "dup"]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(dec.decode(q.stdout), "two");
    const missing = await run(["-q", path, "nope"]);
    assert.notEqual(missing.code, 0);
  });
});

Deno.test("getAll() returns every record of a duplicate key in order; get() the first", () => {
  const db = Cdb.fromBytes(makeCdb(DATASETS["duplicate keys"]()));
  assert.deepEqual(db.getAll("a").map((d) => dec.decode(d)), ["1", "2", "3"]);
  assert.deepEqual(db.getAll("b").map((d) => dec.decode(d)), ["x", "y"]);
  assert.equal(dec.decode(db.get("a")), "1");
  assert.equal([...db].length, 5);
});

Deno.test("empty keys and empty values are stored and found", () => {
  const db = Cdb.fromBytes(makeCdb(recs(["", ""], ["", "v"], ["k", ""])));
  assert.deepEqual(db.getAll("").map((d) => dec.decode(d)), ["", "v"]);
  assert.deepEqual(db.get("k"), new Uint8Array(0));
  assert.equal(db.has("k"), true);
  assert.equal(db.has(""), true);
});

Deno.test("binary keys and values (NUL, 0xff, newlines) round-trip", () => {
  const records = binaryRecords();
  const db = Cdb.fromBytes(makeCdb(records));
  for (const [k, d] of records) assert.deepEqual(db.get(k), d);
  assert.equal(db.get(new Uint8Array([0, 0])), undefined);
});

Deno.test("keys with equal hashes are told apart by their bytes", () => {
  const db = Cdb.fromBytes(makeCdb(DATASETS["keys with equal hashes"]()));
  assert.deepEqual(db.getAll(COLLIDING_A).map((d) => dec.decode(d)), [
    "A",
    "A2",
  ]);
  assert.deepEqual(db.getAll(COLLIDING_B).map((d) => dec.decode(d)), ["B"]);
});

Deno.test("a 10,000-record file finds every key and iterates in order", () => {
  const records = tenThousand();
  const db = Cdb.fromBytes(makeCdb(records));
  for (const [k, d] of records) assert.deepEqual(db.get(k), d);
  let i = 0;
  for (const [k, d] of db) {
    assert.deepEqual([k, d], records[i++]);
  }
  assert.equal(i, 10_000);
});

Deno.test("lookups of missing keys give undefined, [] and false", () => {
  for (const db of [makeCdb([]), makeCdb(tenThousand())].map(Cdb.fromBytes)) {
    for (const key of ["missing", "", "user10000@example.org", "user1"]) {
      assert.equal(db.get(key), undefined);
      assert.deepEqual(db.getAll(key), []);
      assert.equal(db.has(key), false);
    }
  }
  assert.deepEqual([...Cdb.fromBytes(makeCdb([]))], []);
});

Deno.test("returned keys and values are copies that can't alter the database", () => {
  const db = Cdb.fromBytes(makeCdb(recs(["k", "value"])));
  db.get("k")![0] = 0;
  for (const [key, data] of db) key[0] = data[0] = 0;
  assert.equal(dec.decode(db.get("k")), "value");
});

/** Runs every kind of read; returns normally or throws what they throw. */
function readEverything(bytes: Uint8Array, keys: Uint8Array[]) {
  const db = Cdb.fromBytes(bytes);
  for (const k of keys) {
    db.get(k);
    db.getAll(k);
    db.has(k);
  }
  for (const _ of db) { /* walk */ }
}

function assertCorrupt(fn: () => unknown, label: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(!(e instanceof RangeError), `${label}: RangeError ${e}`);
    assert.ok(e instanceof Error, `${label}: not an Error`);
    assert.match(e.message, /^corrupt cdb: /, label);
    return true;
  });
}

Deno.test("a truncated file gives a clear 'corrupt cdb' Error, never a RangeError", async () => {
  await withTempDir(async (dir) => {
    const records = recs(["a", "1"], ["bb", "22"], ["", ""], ["a", "3"]);
    const full = await tinycdbMake(dir, records);
    const keys = records.map(([k]) => k);
    readEverything(full, keys);
    for (let cut = 0; cut < full.length; cut++) {
      assertCorrupt(
        () => readEverything(full.slice(0, cut), keys),
        `cut at ${cut}`,
      );
    }
    const path = `${dir}/truncated.cdb`;
    await Deno.writeFile(path, full.slice(0, full.length - 5));
    await assert.rejects(Cdb.open(path), /^Error: corrupt cdb: hash table/);
  });
});

Deno.test("corrupt positions and lengths give 'corrupt cdb' Errors, never RangeErrors", () => {
  const records = recs(["a", "1"], ["bb", "22"]);
  const good = makeCdb(records);
  const hA = cdbHash("a");
  const table = hA % 256;
  const goodView = new DataView(good.buffer);
  const tpos = goodView.getUint32(table * 8, true);
  const slots = goodView.getUint32(table * 8 + 4, true);
  let slotOfA = (hA >>> 8) % slots;
  while (goodView.getUint32(tpos + slotOfA * 8 + 4, true) !== 2048) {
    slotOfA = (slotOfA + 1) % slots;
  }
  const cases: Record<string, (v: DataView) => void> = {
    "table with 2^32-1 slots": (v) =>
      v.setUint32(table * 8 + 4, 0xffffffff, true),
    "table past the end": (v) => v.setUint32(table * 8, good.length, true),
    "table inside the header": (v) => v.setUint32(table * 8, 100, true),
    "huge key length": (v) => v.setUint32(2048, 0xfffffff0, true),
    "huge data length": (v) => v.setUint32(2048 + 4, 0xfffffff0, true),
    "slot pointing past the end": (v) =>
      v.setUint32(tpos + slotOfA * 8 + 4, 0xfffffff0, true),
    "slot pointing into the header": (v) =>
      v.setUint32(tpos + slotOfA * 8 + 4, 4, true),
    "slot pointing into the hash tables": (v) =>
      v.setUint32(tpos + slotOfA * 8 + 4, tpos, true),
  };
  for (const [name, damage] of Object.entries(cases)) {
    const bad = good.slice();
    damage(new DataView(bad.buffer));
    assertCorrupt(() => readEverything(bad, [enc.encode("a")]), name);
  }
});

Deno.test("Cdb.open() reads the file and exposes its identity; isStale() notices replacement", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/users.cdb`;
    await writeCdbAtomic(path, [["alice", "1"]]);
    const db = await Cdb.open(path);
    assert.equal(db.path, path);
    assert.equal(dec.decode(db.get("alice")), "1");
    const info = await Deno.stat(path);
    assert.deepEqual(db.identity, fileIdentity(info));
    assert.equal(db.identity!.ino, info.ino);
    assert.equal(db.identity!.size, info.size);
    assert.equal(db.identity!.mtimeMs, info.mtime!.getTime());
    assert.equal(await db.isStale(), false);

    await writeCdbAtomic(path, [["alice", "2"]]);
    assert.equal(await db.isStale(), true);
    assert.equal(dec.decode(db.get("alice")), "1", "old copy unchanged");
    const again = await Cdb.open(path);
    assert.equal(dec.decode(again.get("alice")), "2");
    assert.equal(sameFileIdentity(db.identity!, again.identity!), false);

    await Deno.remove(path);
    assert.equal(await again.isStale(), true);
    assert.equal(await Cdb.fromBytes(makeCdb([])).isStale(), false);
    await assert.rejects(Cdb.open(path), Deno.errors.NotFound);
  });
});

Deno.test("writeCdbAtomic() writes makeCdb()'s bytes by renaming a temp file over the target", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db.cdb`;
    const records = DATASETS["duplicate keys"]();
    await writeCdbAtomic(path, records);
    assert.deepEqual(await Deno.readFile(path), makeCdb(records));
    assert.equal((await Deno.stat(path)).mode! & 0o7777, 0o644);
    const before = await Deno.stat(path);
    await writeCdbAtomic(path, tenThousand());
    const after = await Deno.stat(path);
    assert.notEqual(after.ino, before.ino, "replaced by rename, not in place");
    assert.deepEqual(await Deno.readFile(path), makeCdb(tenThousand()));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["db.cdb"], "no temp file left");
  });
});

Deno.test("writeCdbAtomic() keeps the old file's owner and mode unless told otherwise", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db.cdb`;
    await Deno.writeFile(path, makeCdb([]));
    await Deno.chmod(path, 0o640);
    const isRoot = Deno.uid() === 0;
    if (isRoot) await Deno.chown(path, 1234, 5678);
    const old = await Deno.stat(path);

    await writeCdbAtomic(path, [["k", "v"]]);
    let st = await Deno.stat(path);
    assert.equal(st.mode! & 0o7777, 0o640);
    assert.equal(st.uid, old.uid);
    assert.equal(st.gid, old.gid);

    await writeCdbAtomic(path, [["k", "v"]], { mode: 0o600 });
    st = await Deno.stat(path);
    assert.equal(st.mode! & 0o7777, 0o600);
    assert.equal(st.uid, old.uid);

    if (isRoot) {
      await writeCdbAtomic(path, [["k", "v"]], { uid: 42, gid: 43 });
      st = await Deno.stat(path);
      assert.equal(st.uid, 42);
      assert.equal(st.gid, 43);
      assert.equal(st.mode! & 0o7777, 0o600);
    }
  });
});

Deno.test("writeCdbAtomic() leaves the old file intact when the write fails", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db.cdb`;
    await writeCdbAtomic(path, [["k", "old"]]);
    const original = await Deno.readFile(path);

    function* failing(): Generator<[string, string]> {
      yield ["k", "new"];
      throw new Error("input failed");
    }
    await assert.rejects(writeCdbAtomic(path, failing()), /input failed/);
    assert.deepEqual(await Deno.readFile(path), original);

    // Something that can't be replaced sits where the temp file goes.
    const tmp = `${path}.tmp.${Deno.pid}`;
    await Deno.mkdir(`${tmp}/blocker`, { recursive: true });
    await assert.rejects(writeCdbAtomic(path, [["k", "new"]]));
    assert.deepEqual(await Deno.readFile(path), original);
    await Deno.remove(tmp, { recursive: true });

    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["db.cdb"]);
  });
});

Deno.test("concurrent writeCdbAtomic() calls on one path all succeed, the last one winning", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db.cdb`;
    await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => writeCdbAtomic(path, [["n", `${i}`]]),
      ),
    );
    const db = await Cdb.open(path);
    assert.equal(dec.decode(db.get("n")), "9");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["db.cdb"]);
  });
});
