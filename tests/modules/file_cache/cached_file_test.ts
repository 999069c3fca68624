/**
 * A cached file is looked at (a `stat`) at most once per `recheckMs` (a
 * second by default), and at every use with 0. A version read while too
 * young to trust is read once more.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  CachedFile,
  RACY_MS,
  RECHECK_MS,
} from "../../../modules/file_cache/cached_file.ts";
import { eventually, tempDir } from "../../_helpers.ts";

function counted(path: string, recheckMs?: number, racyMs?: number) {
  let parses = 0;
  const file = new CachedFile(path, (read) => {
    parses++;
    return read.ok ? new TextDecoder().decode(read.bytes) : "(none)";
  }, { recheckMs, racyMs });
  return { file, parses: () => parses };
}

Deno.test("CachedFile looks at its file at most once a second by default, and distrusts a version younger than two seconds", () => {
  assertEquals(RECHECK_MS, 1000);
  assertEquals(RACY_MS, 2000);
});

Deno.test("CachedFile with recheckMs 0 sees a change at the very next use, and reads an unchanged old file once", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const old = new Date(Date.now() - 60_000);
    Deno.utimeSync(path, old, old);
    const { file, parses } = counted(path, 0);
    assertEquals(file.get(), "one");
    assertEquals(file.get(), "one");
    assertEquals(parses(), 1, "an old unchanged file is read once");
    Deno.writeTextFileSync(path, "two, longer");
    assertEquals(file.get(), "two, longer");
    Deno.removeSync(path);
    assertEquals(file.get(), "(none)");
  } finally {
    dir.cleanup();
  }
});

Deno.test("CachedFile reads a version it read while young once more after racyMs, then trusts it", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const { file, parses } = counted(path, 0, 100);
    assertEquals(file.get(), "one");
    assertEquals(file.get(), "one");
    assertEquals(parses(), 1, "within racyMs the identity is trusted");
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(file.get(), "one");
    assertEquals(parses(), 2, "read once more: a same-size change may hide");
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(file.get(), "one");
    assertEquals(parses(), 2, "now old enough to trust");
  } finally {
    dir.cleanup();
  }
});

Deno.test("CachedFile does not look at its file again within recheckMs: a change is not seen yet", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const { file, parses } = counted(path, 60_000);
    assertEquals(file.get(), "one");
    Deno.writeTextFileSync(path, "two, longer");
    Deno.removeSync(path);
    assertEquals(file.get(), "one");
    assertEquals(parses(), 1);
  } finally {
    dir.cleanup();
  }
});

Deno.test("CachedFile sees a change once recheckMs has passed, and re-reads only what changed", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const { file, parses } = counted(path, 50);
    assertEquals(file.get(), "one");
    Deno.writeTextFileSync(path, "two, longer");
    assertEquals(
      await eventually(() => Promise.resolve(file.get()), (v) => v !== "one"),
      "two, longer",
    );
    const after = parses();
    await new Promise((r) => setTimeout(r, 120));
    assertEquals(file.get(), "two, longer");
    assertEquals(parses(), after, "an unchanged file is not read again");
    Deno.removeSync(path);
    assertEquals(
      await eventually(
        () => Promise.resolve(file.get()),
        (v) => v === "(none)",
      ),
      "(none)",
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("CachedFile with recheckMs 0 looks at every use", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const { file } = counted(path, 0);
    assertEquals(file.get(), "one");
    Deno.writeTextFileSync(path, "two, longer");
    assertEquals(file.get(), "two, longer");
  } finally {
    dir.cleanup();
  }
});
