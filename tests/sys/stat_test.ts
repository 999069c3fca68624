/**
 * fileStamper (libc's stat through FFI) says what Deno.statSync says of a
 * file: device, inode, size, mtime to the millisecond and ctime to the
 * second (Deno's own precision); null for a path
 * that cannot be stat'ed; and it sees a rewrite and a replacement.
 */
import assert from "node:assert/strict";
import { fileStamper } from "../../sys/stat.ts";
import { tempDir } from "../_helpers.ts";

Deno.test("fileStamper agrees with Deno.statSync on device, inode, size, mtime and ctime", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "hello");
    const old = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678));
    Deno.utimeSync(path, old, old);
    const ours = fileStamper(path)()!;
    const deno = Deno.statSync(path);
    assert.equal(ours.dev, deno.dev);
    assert.equal(ours.ino, deno.ino);
    assert.equal(ours.size, 5);
    assert.equal(Math.floor(ours.mtimeMs!), old.getTime());
    // Deno's FileInfo gives ctime in whole seconds; libc's has nanoseconds.
    assert.equal(
      Math.floor(ours.ctimeMs! / 1000),
      Math.floor(deno.ctime!.getTime() / 1000),
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("fileStamper gives null for a missing file or one below a non-directory, and follows a symlink", () => {
  const dir = tempDir();
  try {
    assert.equal(fileStamper(`${dir.path}/missing`)(), null);
    Deno.writeTextFileSync(`${dir.path}/f`, "x");
    assert.equal(fileStamper(`${dir.path}/f/below`)(), null);
    Deno.symlinkSync(`${dir.path}/f`, `${dir.path}/link`);
    assert.equal(
      fileStamper(`${dir.path}/link`)()!.ino,
      Deno.statSync(`${dir.path}/f`).ino,
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("fileStamper sees a rewrite (size) and a replacement by rename (inode)", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/f`;
    Deno.writeTextFileSync(path, "one");
    const stamp = fileStamper(path);
    const first = stamp()!;
    Deno.writeTextFileSync(path, "three");
    assert.equal(stamp()!.size, 5);
    assert.equal(stamp()!.ino, first.ino);
    Deno.writeTextFileSync(`${dir.path}/g`, "one");
    Deno.renameSync(`${dir.path}/g`, path);
    assert.notEqual(stamp()!.ino, first.ino);
  } finally {
    dir.cleanup();
  }
});
