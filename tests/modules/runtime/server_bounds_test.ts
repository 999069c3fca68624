/**
 * The pieces that bound a server's work: the set of tasks in flight, the
 * connection cap under an open-file limit, and trouble said once per spell.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { connectionCap, InFlight } from "../../../modules/runtime/in_flight.ts";
import { OncePerSpell } from "../../../modules/runtime/socket_trouble.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("InFlight.room() waits while the set is full and goes on when a task settles", async () => {
  const work = new InFlight(2);
  const a = deferred();
  const b = deferred();
  work.add(a.promise);
  work.add(b.promise);
  let roomy = false;
  const waiting = work.room().then(() => roomy = true);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals([work.size, roomy], [2, false]);
  b.resolve();
  await waiting;
  assertEquals([work.size, roomy], [1, true]);
  a.resolve();
  assertEquals(await work.settle(1000), true);
  assertEquals(work.size, 0);
});

Deno.test("InFlight.room() lets go once closed, and a failing task just leaves the set", async () => {
  const work = new InFlight(1);
  work.add(Promise.reject(new Error("failed")));
  await work.room();
  assertEquals(work.size, 0);
  const stuck = deferred();
  work.add(stuck.promise);
  const waiting = work.room();
  work.close();
  await waiting;
  assertEquals(work.size, 1);
  stuck.resolve();
});

Deno.test("InFlight.settle() gives up at its deadline when a task hangs", async () => {
  const work = new InFlight(4);
  const hung = deferred();
  work.add(hung.promise);
  work.add(Promise.resolve());
  assertEquals(await work.settle(20), false);
  hung.resolve();
  assertEquals(await work.settle(1000), true);
});

Deno.test("connectionCap() leaves 64 descriptors, or half of a small limit, in reserve", () => {
  assertEquals(connectionCap(1024), 960);
  assertEquals(connectionCap(128), 64);
  assertEquals(connectionCap(64), 32);
  assertEquals(connectionCap(1), 1);
});

Deno.test("OncePerSpell says a line once per spell, and not again within a minute", () => {
  const said: string[] = [];
  const spell = new OncePerSpell((line) => said.push(line));
  spell.note("busy");
  spell.note("busy");
  assertEquals(said, ["busy"]);
  spell.cleared();
  spell.note("busy again"); // a new spell right away: still quiet
  assertEquals(said, ["busy"]);
});
