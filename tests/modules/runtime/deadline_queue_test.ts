/**
 * One timer for every connection's deadline: a deadline not met is cut at
 * its time, one met never is, and they come due in the order they were set.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DeadlineQueue } from "../../../modules/runtime/deadline_queue.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("DeadlineQueue cuts the deadlines not met, in the order they were set, and never one met in time", async () => {
  const deadlines = new DeadlineQueue(30);
  const cut: string[] = [];
  deadlines.set(() => cut.push("a"));
  const met = deadlines.set(() => cut.push("b"));
  deadlines.set(() => cut.push("c"));
  met.done();
  assertEquals(deadlines.size, 2);
  await pause(200);
  assertEquals(cut, ["a", "c"]);
  assertEquals(deadlines.size, 0);
  deadlines.close();
});

Deno.test("DeadlineQueue cuts nothing before its time, even behind thousands met in time", async () => {
  const deadlines = new DeadlineQueue(60_000);
  for (let i = 0; i < 5000; i++) deadlines.set(() => {}).done();
  let cut = false;
  const late = deadlines.set(() => cut = true);
  assertEquals(deadlines.size, 1);
  await pause(50);
  assertEquals(cut, false);
  assertEquals(late.live, true);
  late.done();
  assertEquals(late.live, false);
  deadlines.close();
});

Deno.test("DeadlineQueue keeps cutting after a quiet spell, with its timer armed again", async () => {
  const deadlines = new DeadlineQueue(20);
  const cut: number[] = [];
  deadlines.set(() => cut.push(1));
  await pause(150);
  deadlines.set(() => cut.push(2));
  await pause(150);
  assertEquals(cut, [1, 2]);
  deadlines.close();
});

Deno.test("DeadlineQueue.done() after a deadline expired changes nothing", async () => {
  const deadlines = new DeadlineQueue(10);
  let cuts = 0;
  const d = deadlines.set(() => cuts++);
  await pause(100);
  d.done();
  d.done();
  assertEquals({ cuts, size: deadlines.size, live: d.live }, {
    cuts: 1,
    size: 0,
    live: false,
  });
  deadlines.close();
});
