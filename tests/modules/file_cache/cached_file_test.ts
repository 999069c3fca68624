/**
 * A cached file is looked at (a `stat`) at most once per `recheckMs`, not
 * once per use, and a change is seen once that time has passed.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  CachedFile,
  RECHECK_MS,
} from "../../../modules/file_cache/cached_file.ts";
import { eventually, tempDir } from "../../_helpers.ts";

function counted(path: string, recheckMs?: number) {
  let parses = 0;
  const file = new CachedFile(path, (read) => {
    parses++;
    return read.ok ? new TextDecoder().decode(read.bytes) : "(none)";
  }, { recheckMs });
  return { file, parses: () => parses };
}

Deno.test("CachedFile looks at its file at most once a second by default", () => {
  assertEquals(RECHECK_MS, 1000);
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
