/**
 * The open-file limit through libc: read, set, and raised to the hard
 * limit. Run in child processes, since a lowered limit cannot always be
 * raised again.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";

const RLIMIT_TS = new URL("../../sys/rlimit.ts", import.meta.url).href;

async function runScript(body: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import * as sys from ${JSON.stringify(RLIMIT_TS)};\n${body}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(text.decode(out.stderr));
  return text.decode(out.stdout);
}

/** The "Max open files" line of /proc/PID/limits, as [soft, hard]. */
const PROC_LIMITS = `
const line = Deno.readTextFileSync("/proc/self/limits").split("\\n")
  .find((l) => l.startsWith("Max open files"));
const [kernelSoft, kernelHard] = line.split(/\\s+/).slice(3, 5).map(Number);
`;

Deno.test("getOpenFileLimit() reads what the kernel reports in /proc/self/limits", async () => {
  const out = await runScript(`${PROC_LIMITS}
const got = sys.getOpenFileLimit();
console.log(JSON.stringify([[got.soft, got.hard], [kernelSoft, kernelHard]]));`);
  const [got, kernel] = JSON.parse(out);
  assertEquals(got, kernel);
});

Deno.test("raiseOpenFileLimit() raises a lowered soft limit to the hard limit", async () => {
  const out = await runScript(`
const { hard } = sys.getOpenFileLimit();
sys.setOpenFileLimit({ soft: 64, hard });
const lowered = sys.getOpenFileLimit().soft;
const raised = sys.raiseOpenFileLimit();
${PROC_LIMITS}
console.log(JSON.stringify([lowered, raised === hard, kernelSoft === hard]));`);
  assertEquals(JSON.parse(out), [64, true, true]);
});
