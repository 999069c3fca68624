/**
 * The module runtime: the `Backend` interface every module implements, and
 * everything around it: parsing a request and answering it, the command,
 * local-socket and UDP servers, their log lines, and `runModule`, which
 * turns a program's arguments and environment into one of those servers.
 *
 * A backend only finds an account, checks credentials and reports facts;
 * imports run one way, from the backends to this room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestLogLine } from "./mod.ts";
 * assert.equal(requestLogLine(0, "bob", "example.com"), "+ bob@example.com");
 * ```
 *
 * @module
 */
export * from "./answer.ts";
export * from "./backend.ts";
export * from "./command_server.ts";
export * from "./deadline_queue.ts";
export * from "./local_server.ts";
export * from "./log.ts";
export * from "./run_module.ts";
export type { RunningServer } from "./server_life.ts";
export * from "./udp_server.ts";
