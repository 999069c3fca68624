/**
 * Helpers of the end-to-end tests, which run our programs with real mail
 * software (daemontools, ucspi-tcp, mailfront, Dovecot): find the system's
 * programs (or skip), free loopback ports, process groups that are always
 * cleaned up, polling with a deadline, and a line-based TCP client.
 *
 * @module
 */

export {
  dist,
  ensureDist,
  root,
  type Server,
  startServer,
} from "../_helpers.ts";

/** A generous bound on any wait, so that a broken setup fails instead of hanging. */
export const DEADLINE_MS = 60_000;

const SYSTEM_DIRS = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
];

/**
 * Finds a program on PATH or in the system's bin and sbin directories.
 *
 * @param name The program name.
 * @returns Its path, or undefined.
 */
export function which(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  const path = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d);
  for (const dir of [...path, ...SYSTEM_DIRS]) {
    if (isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Says why a test does not run: a `skip:` line, or (with
 * `CVM_TEST_REQUIRE_SERVICES=1`) a failure.
 *
 * @param test The test's short name.
 * @param reason Why.
 */
export function skip(test: string, reason: string): void {
  if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
    throw new Error(`${test}: ${reason} (CVM_TEST_REQUIRE_SERVICES=1)`);
  }
  console.log(`skip: ${test}: ${reason}`);
}

/**
 * The paths of programs the test needs; when one is missing, skips (see
 * `skip`) and returns undefined.
 *
 * @param test The test's short name.
 * @param names The programs.
 * @returns Name → path, or undefined.
 */
export function requirePrograms(
  test: string,
  names: string[],
): Record<string, string> | undefined {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const path = which(name);
    if (path === undefined) missing.push(name);
    else found[name] = path;
  }
  if (missing.length > 0) {
    skip(test, `not installed: ${missing.join(", ")} (see .ci/packages.txt)`);
    return undefined;
  }
  return found;
}

/**
 * A TCP port free on 127.0.0.1 just now (bound, read, released).
 *
 * @returns The port.
 */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Polls until `check` holds, failing after DEADLINE_MS.
 *
 * @param what What is awaited, for the error.
 * @param check The condition.
 * @param describe Extra context for the error (e.g. a log).
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  describe: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const more = describe();
      throw new Error(
        `timed out waiting for ${what}${more ? `\n${more}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Bounds a promise by DEADLINE_MS.
 *
 * @param what What is awaited, for the error.
 * @param promise The promise.
 * @returns Its value.
 */
export async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${what}`)),
      DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A program started in a process group of its own. */
export interface Group {
  /** The leader's pid (also the group id). */
  pid: number;
  /** Everything it wrote so far, stdout and stderr mixed. */
  output(): string;
  /** Whether the leader has exited. */
  exited(): boolean;
  /** Ends the whole group (SIGTERM, then SIGKILL) and waits for the leader. */
  stop(): Promise<void>;
}

/**
 * Starts a program in a new session (so its own process group, which
 * `stop` signals as a whole: svscan's supervise children, Dovecot's
 * workers, tcpserver's connections), its output collected.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param options Environment (added to the test's) and working directory.
 * @returns The running group.
 */
export function spawnGroup(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Group {
  const setsid = which("setsid");
  if (setsid === undefined) throw new Error("setsid (util-linux) is needed");
  // exec 2>&1 so one pipe carries both streams, in order.
  const child = new Deno.Command(setsid, {
    args: ["sh", "-c", 'exec "$0" "$@" 2>&1', cmd, ...args],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  let done = false;
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
    }
  })();
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  const signal = (sig: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, sig);
    } catch { /* the group is gone */ }
  };
  return {
    pid: child.pid,
    output: () => text,
    exited: () => done,
    async stop() {
      signal("SIGTERM");
      const ended = await Promise.race([
        status.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      // Stragglers (and a leader deaf to SIGTERM) go now.
      signal("SIGKILL");
      if (!ended) await status;
      // Descendants may hold the pipe a moment longer; don't wait forever.
      await Promise.race([
        reading,
        new Promise((r) => setTimeout(r, 5_000)),
      ]);
    },
  };
}

/** A line-based TCP client (CRLF out, lines in without their CRLF). */
export class LineClient {
  #conn: Deno.TcpConn;
  #buffer = "";
  #decoder = new TextDecoder();
  #encoder = new TextEncoder();
  #chunk = new Uint8Array(4096);
  /** Every line read and written (`C: ` / `S: `), for failure messages. */
  transcript: string[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /**
   * Connects to 127.0.0.1.
   *
   * @param port The port.
   * @returns The client.
   */
  static async connect(port: number): Promise<LineClient> {
    return new LineClient(
      await Deno.connect({ hostname: "127.0.0.1", port }),
    );
  }

  /**
   * Reads one line.
   *
   * @returns The line, without CR LF.
   */
  async readLine(): Promise<string> {
    return await within("a line from the server", this.#readLine());
  }

  async #readLine(): Promise<string> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        this.transcript.push(`S: ${line}`);
        return line;
      }
      const n = await this.#conn.read(this.#chunk);
      if (n === null) {
        throw new Error(
          `connection closed; transcript:\n${this.transcript.join("\n")}`,
        );
      }
      this.#buffer += this.#decoder.decode(this.#chunk.subarray(0, n), {
        stream: true,
      });
    }
  }

  /**
   * Sends one line (CR LF added).
   *
   * @param line The line.
   * @param shown How it appears in the transcript (to hide a secret).
   */
  async send(line: string, shown: string = line): Promise<void> {
    this.transcript.push(`C: ${shown}`);
    const bytes = this.#encoder.encode(`${line}\r\n`);
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }

  /**
   * Sends a line and reads the one-line reply.
   *
   * @param line The line.
   * @param shown How it appears in the transcript.
   * @returns The reply.
   */
  async command(line: string, shown?: string): Promise<string> {
    await this.send(line, shown);
    return await this.readLine();
  }

  /**
   * Reads lines until one for which `last` holds (included).
   *
   * @param last Whether a line ends the reply.
   * @returns The lines.
   */
  async readUntil(last: (line: string) => boolean): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      lines.push(line);
      if (last(line)) return lines;
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/**
 * Waits until something accepts connections on 127.0.0.1:port.
 *
 * @param port The port.
 * @param group The server, whose output goes into a timeout's message.
 */
export async function waitForListener(
  port: number,
  group: Group,
): Promise<void> {
  await waitUntil(
    `a listener on 127.0.0.1:${port}`,
    async () => {
      if (group.exited()) {
        throw new Error(`server exited:\n${group.output()}`);
      }
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    () => group.output(),
  );
}

/**
 * Asserts, with the transcript in the message.
 *
 * @param ok The condition.
 * @param message What was expected.
 * @param client A client whose transcript helps.
 */
export function expect(
  ok: boolean,
  message: string,
  client?: LineClient,
): void {
  if (!ok) {
    throw new Error(
      client
        ? `${message}\ntranscript:\n${client.transcript.join("\n")}`
        : message,
    );
  }
}
