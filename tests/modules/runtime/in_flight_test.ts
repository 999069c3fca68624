/**
 * The work a server has taken on is a count, bounded: room() waits for a
 * task to leave, settle() for all of them up to a deadline.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { InFlight } from "../../../modules/runtime/in_flight.ts";

Deno.test("InFlight.room() waits at the limit until a task leaves", async () => {
  const work = new InFlight(2);
  work.enter();
  work.enter();
  let roomy = false;
  const waiting = work.room().then(() => roomy = true);
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(roomy, false);
  work.leave();
  await waiting;
  assertEquals({ roomy, size: work.size }, { roomy: true, size: 1 });
  work.leave();
});

Deno.test("InFlight.add() counts a task until it settles, rejected or not", async () => {
  const work = new InFlight(4);
  let fail = (_: Error) => {};
  let finish = () => {};
  work.add(new Promise<void>((r) => finish = r));
  work.add(new Promise<void>((_, j) => fail = j));
  assertEquals(work.size, 2);
  fail(new Error("its own business"));
  finish();
  assertEquals(await work.settle(1000), true);
  assertEquals(work.size, 0);
});

Deno.test("InFlight.settle() gives up at its deadline on a task that never ends", async () => {
  const work = new InFlight(1);
  work.enter();
  assertEquals(await work.settle(30), false);
  work.leave();
  assertEquals(await work.settle(30), true);
});

Deno.test("InFlight.abandoned: what outlives settle()'s deadline is given up, what ends in time is not", async () => {
  const work = new InFlight(2);
  work.enter();
  const done = work.settle(1000);
  work.leave();
  assertEquals(await done, true);
  assertEquals(work.abandoned, false);
  work.enter();
  assertEquals(await work.settle(30), false);
  assertEquals(work.abandoned, true);
  work.leave();
});

Deno.test("InFlight.close() lets a waiting room() go", async () => {
  const work = new InFlight(1);
  work.enter();
  const waiting = work.room();
  work.close();
  await waiting;
  work.leave();
});
