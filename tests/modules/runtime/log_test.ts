/**
 * The log sink of the servers: lines given in one turn of work go out in
 * one write, complete and in order, and `written()` says when they are out
 * (a server sends its reply after that).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { requestLogLine, stdoutLog } from "../../../modules/runtime/log.ts";

/** A stdout that takes at most `most` bytes a call (as a pipe may). */
function recorder(most = 7) {
  const writes: Uint8Array[] = [];
  const write = (bytes: Uint8Array) => {
    const n = Math.min(bytes.length, most);
    writes.push(bytes.slice(0, n));
    return n;
  };
  const text = () => {
    const all = new Uint8Array(writes.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of writes) {
      all.set(w, at);
      at += w.length;
    }
    return new TextDecoder().decode(all);
  };
  return { writes, write, text };
}

Deno.test("stdoutLog() writes the lines of one turn in one write, in order, when the turn is done", async () => {
  const out = recorder(Infinity);
  const log = stdoutLog(out.write);
  log("+ alice");
  log("- bob@example.com");
  log("? carol");
  assertEquals(out.writes.length, 0);
  await log.written();
  assertEquals(out.writes.length, 1);
  assertEquals(out.text(), "+ alice\n- bob@example.com\n? carol\n");
  log("+ dave");
  await log.written();
  assertEquals(out.writes.length, 2);
  assertEquals(out.text().split("\n").at(-2), "+ dave");
});

Deno.test("stdoutLog() goes on after a partial write until the lines are out", async () => {
  const out = recorder(7);
  const log = stdoutLog(out.write);
  log("+ alice@example.com");
  await log.written();
  assertEquals(out.text(), "+ alice@example.com\n");
});

Deno.test("stdoutLog().written() settles only after the line is out", async () => {
  const out = recorder();
  const log = stdoutLog(out.write);
  log(requestLogLine(0, "alice", undefined));
  const order: string[] = [];
  await log.written().then(() => order.push(out.text()));
  assertEquals(order, ["+ alice\n"]);
});

Deno.test("stdoutLog().flush() writes at once, and lines longer than its buffer and not ASCII go out whole", () => {
  const out = recorder();
  const log = stdoutLog(out.write);
  const long = "+ " + "é".repeat(20_000);
  log("Starting.");
  log(long);
  log("Stopping.");
  log.flush();
  assertEquals(out.text(), `Starting.\n${long}\nStopping.\n`);
});
