/**
 * cvm-ldap's transports against the test slapd: StartTLS and ldaps with
 * the CA the test made, a wrong CA, no CA and a host name the certificate
 * does not carry (each a temporary failure, never 0 or 100), the local
 * socket, and several URIs with the first one down or hung.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ask, bindEnv, withBackend } from "./_ask.ts";
import { type Slapd, slapdAvailable, startSlapd } from "./_slapd.ts";
import { closedPort, startForwarder, startSilentServer } from "./_tcp.ts";

const options = {
  ignore: !slapdAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
};

/** Asks for alice with her password, in server and command mode; both codes. */
async function aliceCodes(env: Record<string, string>): Promise<number[]> {
  const codes: number[] = [];
  for (const persistent of [true, false]) {
    await withBackend(env, persistent, async (backend) => {
      codes.push((await ask(backend, "alice", "alice-pw")).code);
      // A second request on the same backend, after the first.
      codes.push((await ask(backend, "alice", "wrong")).code);
    });
  }
  return codes;
}

Deno.test({
  name:
    "cvm-ldap transports: TLS verified against the test's CA, ldapi, URI failover",
  ...options,
  fn: async (t) => {
    const slapd: Slapd = await startSlapd();
    try {
      await t.step(
        "StartTLS with CVM_LDAP_CA validates (0) and refuses (100) as over plain TCP",
        async () => {
          const env = {
            ...bindEnv(slapd),
            CVM_LDAP_STARTTLS: "1",
            CVM_LDAP_CA: slapd.caPath,
          };
          assertEquals(await aliceCodes(env), [0, 100, 0, 100]);
        },
      );
      await t.step(
        "ldaps:// with CVM_LDAP_CA works by address and by name",
        async () => {
          for (const uri of [slapd.ldapsUri, slapd.ldapsLocalhostUri]) {
            const env = {
              ...bindEnv(slapd),
              CVM_LDAP_URI: uri,
              CVM_LDAP_CA: slapd.caPath,
            };
            assertEquals(await aliceCodes(env), [0, 100, 0, 100], uri);
          }
        },
      );
      await t.step(
        "a certificate from another CA, or no CA given, is a temporary failure (4), never 0 or 100",
        async () => {
          for (const ca of [slapd.otherCaPath, undefined]) {
            const ways: Record<string, string>[] = [
              { CVM_LDAP_STARTTLS: "1" },
              { CVM_LDAP_URI: slapd.ldapsUri },
            ];
            for (const tls of ways) {
              const env: Record<string, string> = {
                ...bindEnv(slapd),
                ...tls,
                CVM_LDAP_TIMEOUT: "2",
              };
              if (ca) env.CVM_LDAP_CA = ca;
              assertEquals(await aliceCodes(env), [4, 4, 4, 4], String(ca));
            }
          }
        },
      );
      await t.step(
        "a certificate that does not name the host is a temporary failure (4)",
        async () => {
          // 127.0.0.2 reaches the same slapd; its certificate names only
          // localhost and 127.0.0.1.
          const tlsPort = Number(
            new URL(slapd.ldapsUri.replace(/^ldaps/, "http")).port,
          );
          const plainPort = Number(
            new URL(slapd.uri.replace(/^ldap/, "http")).port,
          );
          const ldaps = startForwarder("127.0.0.2", tlsPort);
          const plain = startForwarder("127.0.0.2", plainPort);
          try {
            const ways: Record<string, string>[] = [
              { CVM_LDAP_URI: `ldaps://127.0.0.2:${ldaps.port}` },
              {
                CVM_LDAP_URI: `ldap://127.0.0.2:${plain.port}`,
                CVM_LDAP_STARTTLS: "1",
              },
            ];
            for (const tls of ways) {
              const env = {
                ...bindEnv(slapd),
                ...tls,
                CVM_LDAP_CA: slapd.caPath,
              };
              assertEquals(
                await aliceCodes(env),
                [4, 4, 4, 4],
                tls.CVM_LDAP_URI,
              );
            }
            // Without TLS the same forwarder works: the refusal above is the name.
            const env = {
              ...bindEnv(slapd),
              CVM_LDAP_URI: `ldap://127.0.0.2:${plain.port}`,
            };
            assertEquals(await aliceCodes(env), [0, 100, 0, 100]);
          } finally {
            await ldaps.close();
            await plain.close();
          }
        },
      );
      await t.step("ldapi:// (the local socket) works", async () => {
        const env = { ...bindEnv(slapd), CVM_LDAP_URI: slapd.ldapiUri };
        assertEquals(await aliceCodes(env), [0, 100, 0, 100]);
      });
      await t.step(
        "with two URIs and the first one down, the second answers",
        async () => {
          const env = {
            ...bindEnv(slapd),
            CVM_LDAP_URI: `ldap://127.0.0.1:${closedPort()} ${slapd.uri}`,
          };
          assertEquals(await aliceCodes(env), [0, 100, 0, 100]);
        },
      );
      await t.step(
        "with two URIs and the first one hung, the second answers once the first times out",
        async () => {
          const silent = startSilentServer();
          try {
            const env = {
              ...bindEnv(slapd),
              CVM_LDAP_URI: `ldap://127.0.0.1:${silent.port} ${slapd.uri}`,
              CVM_LDAP_TIMEOUT: "0.3",
            };
            assertEquals(await aliceCodes(env), [0, 100, 0, 100]);
          } finally {
            await silent.close();
          }
        },
      );
      await t.step(
        "with every URI down the answer is a temporary failure (4)",
        async () => {
          const env = {
            ...bindEnv(slapd),
            CVM_LDAP_URI:
              `ldap://127.0.0.1:${closedPort()} ldap://127.0.0.1:${closedPort()}`,
          };
          assertEquals(await aliceCodes(env), [4, 4, 4, 4]);
        },
      );
    } finally {
      await slapd.close();
    }
  },
});
