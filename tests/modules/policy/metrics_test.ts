/**
 * The metrics: scraped from a running module server, parsed, and read by
 * `cvm stats`; and the metrics server's bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bucketQuantile,
  parsePrometheusText,
  type Sample,
} from "../../../clients/prometheus_text.ts";
import { formatStats, statsUrl } from "../../../clients/stats.ts";
import {
  METRICS_MAX_CONNECTIONS,
  METRICS_MAX_HEAD,
  startMetricsServer,
} from "../../../modules/policy/mod.ts";
import { dist, run, tempDir } from "../../_helpers.ts";
import { ask, freeTcpPort, startModule } from "./_servers.ts";

const FAMILIES = [
  "cvm_requests_total",
  "cvm_request_duration_seconds",
  "cvm_backend_temporary_failures_total",
  "cvm_cache_hits_total",
  "cvm_cache_misses_total",
  "cvm_cache_stale_total",
  "cvm_penalties_active",
  "cvm_requests_in_flight",
];

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

for (const mode of ["local", "udp"] as const) {
  Deno.test(`${mode}: the metrics count requests, codes, latency, cache and penalties, and cvm stats prints them`, async () => {
    const dir = tempDir();
    Deno.writeTextFileSync(`${dir.path}/passwd`, "bob:pw:1:1::/:\n");
    const port = freeTcpPort();
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_CACHE_TTL: "300",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.05",
      CVM_METRICS: `127.0.0.1:${port}`,
    }, dir.path);
    try {
      const before = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      for (const family of FAMILIES) {
        assert.match(before, new RegExp(`^# TYPE ${family} `, "m"));
      }
      await ask(module, "bob", "pw", "192.0.2.1"); // miss
      await ask(module, "bob", "pw", "192.0.2.1"); // hit
      await ask(module, "bob", "wrong", "192.0.2.2"); // miss, penalty
      await ask(module, "nobody", "x", "192.0.2.3"); // miss, penalty
      const reply = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get("content-type") ?? "", /^text\/plain/);
      const samples = parsePrometheusText(await reply.text());
      assert.equal(
        value(samples, "cvm_requests_total", { mode, code: "0" }),
        2,
      );
      assert.equal(
        value(samples, "cvm_requests_total", { mode, code: "100" }),
        2,
      );
      assert.equal(
        value(samples, "cvm_request_duration_seconds_count", { mode }),
        4,
      );
      assert.equal(
        value(samples, "cvm_request_duration_seconds_bucket", {
          mode,
          le: "+Inf",
        }),
        4,
      );
      assert.equal(value(samples, "cvm_cache_hits_total"), 1);
      assert.equal(value(samples, "cvm_cache_misses_total"), 3);
      assert.equal(value(samples, "cvm_cache_stale_total"), 0);
      assert.equal(value(samples, "cvm_backend_temporary_failures_total"), 0);
      // 192.0.2.2, 192.0.2.3, bob and nobody (bob's success came first).
      assert.equal(value(samples, "cvm_penalties_active"), 4);
      assert.equal(value(samples, "cvm_requests_in_flight"), 0);

      const stats = await run(`${dist}/cvm`, ["stats", `127.0.0.1:${port}`]);
      assert.equal(stats.code, 0, stats.stderr);
      const lines = stats.stdout.split("\n");
      const row = (label: string) =>
        lines.find((l) => l.startsWith(label))?.slice(label.length).trim();
      assert.equal(row(`requests ${mode} 0 (No error)`), "2");
      assert.equal(row(`requests ${mode} 100 (Credentials rejected)`), "2");
      assert.equal(row("cache hits"), "1");
      assert.equal(row("cache misses"), "3");
      assert.equal(row("penalties active"), "4");
      assert.equal(row("requests in flight"), "0");
      assert.match(row(`latency ${mode}: p99 at most`) ?? "", /^[0-9.]+ m?s$/);
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });
}

Deno.test("cvm stats: usage error exits 1, an unreachable server 111", async () => {
  const usage = await run(`${dist}/cvm`, ["stats"]);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /usage: cvm stats HOST:PORT/);
  const gone = await run(`${dist}/cvm`, ["stats", String(freeTcpPort())]);
  assert.equal(gone.code, 111);
  assert.match(
    gone.stderr,
    /^cvm stats: Fatal: cannot read http:\/\/127\.0\.0\.1:/,
  );
});

Deno.test("statsUrl(), formatStats() and bucketQuantile() read what they are given", () => {
  assert.equal(statsUrl("[::1]:9117"), "http://[::1]:9117/metrics");
  assert.equal(statsUrl("host:99999"), undefined);
  assert.equal(statsUrl("http://x/"), undefined);
  const text = [
    "# HELP cvm_requests_total x",
    'cvm_requests_total{mode="udp",code="4"} 3',
    'cvm_request_duration_seconds_bucket{mode="udp",le="0.01"} 1',
    'cvm_request_duration_seconds_bucket{mode="udp",le="1"} 3',
    'cvm_request_duration_seconds_bucket{mode="udp",le="+Inf"} 3',
    'cvm_request_duration_seconds_sum{mode="udp"} 1.5',
    'cvm_request_duration_seconds_count{mode="udp"} 3',
    "cvm_cache_stale_total 2",
    "",
  ].join("\n");
  assert.equal(
    formatStats(parsePrometheusText(text)),
    [
      "requests udp 4 (Input/Output error)  3",
      "latency udp: mean                    500 ms",
      "latency udp: p50 at most             1 s",
      "latency udp: p99 at most             1 s",
      "cache stale answers                  2",
      "",
    ].join("\n"),
  );
  assert.equal(bucketQuantile([], 0.5), undefined);
  assert.deepEqual(
    parsePrometheusText('x{a="q\\"uo\\\\te",b="n\\nl"} +Inf 123\n')[0],
    { name: "x", labels: { a: 'q"uo\\te', b: "n\nl" }, value: Infinity },
  );
  assert.throws(() => parsePrometheusText("x{a=b} 1\n"), SyntaxError);
  assert.throws(() => parsePrometheusText("x 1 2 3\n"), SyntaxError);
});

Deno.test("the metrics server answers only GET /metrics and /, and bounds heads and connections", async () => {
  const server = startMetricsServer(
    { hostname: "127.0.0.1", port: 0 },
    () => Promise.resolve("up 1\n"),
    "text/plain; version=0.0.4",
    () => {},
  );
  const raw = async (request: string) => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    try {
      await conn.write(new TextEncoder().encode(request));
      const chunks: Uint8Array[] = [];
      const buffer = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        chunks.push(buffer.slice(0, n));
      }
      return new TextDecoder().decode(
        new Uint8Array(chunks.flatMap((c) => [...c])),
      );
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  try {
    assert.match(
      await raw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nup 1\n$/,
    );
    assert.match(await raw("GET /?x=1 HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 200 OK/);
    assert.match(await raw("GET /other HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 404 /);
    assert.match(
      await raw("POST /metrics HTTP/1.1\r\n\r\n"),
      /^HTTP\/1\.1 405 /,
    );
    assert.match(await raw("nonsense\r\n\r\n"), /^HTTP\/1\.1 400 /);
    const head = await raw("HEAD /metrics HTTP/1.1\r\n\r\n");
    assert.match(head, /Content-Length: 5\r\n/);
    assert.ok(head.endsWith("\r\n\r\n"));
    // A head longer than the bound is refused, not buffered.
    const long = await raw(
      "GET /metrics HTTP/1.1\r\nX: " + "a".repeat(METRICS_MAX_HEAD) +
        "\r\n\r\n",
    );
    assert.match(long, /^HTTP\/1\.1 400 /);
    // Silent connections hold at most the bound; the next is closed at once.
    const idle = await Promise.all(
      Array.from(
        { length: METRICS_MAX_CONNECTIONS },
        () => Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await raw("GET /metrics HTTP/1.1\r\n\r\n"), "");
    for (const conn of idle) conn.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.match(
      await raw("GET /metrics HTTP/1.1\r\n\r\n"),
      /^HTTP\/1\.1 200 /,
    );
  } finally {
    server.close();
  }
});
