/**
 * LDAP server addresses: `ldap://host[:port]`, `ldaps://host[:port]` and
 * `ldapi://` with a percent-encoded socket path, as OpenLDAP's `ldap.conf`
 * writes them, parsed and checked.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";

/** Where Debian's slapd puts its local socket (an `ldapi:///` default). */
export const DEFAULT_LDAPI_PATH = "/var/run/slapd/ldapi";

/** One server to try: a TCP address (plain or TLS) or a local socket. */
export type LdapEndpoint =
  | {
    /** `ldap` is plain TCP (StartTLS optional), `ldaps` is TLS from the start. */
    kind: "ldap" | "ldaps";
    /** The URI as configured, for messages. */
    uri: string;
    /** The host name or address (IPv6 without brackets). */
    host: string;
    /** The TCP port. */
    port: number;
  }
  | {
    /** A Unix socket on this machine. */
    kind: "ldapi";
    /** The URI as configured, for messages. */
    uri: string;
    /** The socket's path. */
    path: string;
  };

function bad(variable: string, uri: string, why: string): CvmError {
  return new CvmError(ErrorCode.CONFIG, `$${variable}: ${uri}: ${why}`);
}

/**
 * Parses one LDAP URI. Only the scheme, host and port (or the socket path)
 * may be given: a DN, attributes or a filter after the host are refused.
 *
 * @param variable The setting's name, for errors.
 * @param uri The URI text.
 * @returns The endpoint.
 * @throws {CvmError} CONFIG naming `variable` for anything else.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLdapUri } from "./uri.ts";
 * assert.deepEqual(parseLdapUri("CVM_LDAP_URI", "ldaps://ldap.example.com"), {
 *   kind: "ldaps", uri: "ldaps://ldap.example.com", host: "ldap.example.com", port: 636,
 * });
 * assert.deepEqual(parseLdapUri("CVM_LDAP_URI", "ldapi://%2Frun%2Fslapd%2Fldapi"), {
 *   kind: "ldapi", uri: "ldapi://%2Frun%2Fslapd%2Fldapi", path: "/run/slapd/ldapi",
 * });
 * ```
 */
export function parseLdapUri(variable: string, uri: string): LdapEndpoint {
  const match = /^(ldaps?|ldapi):\/\/([^/?#]*)\/?$/i.exec(uri);
  if (!match) {
    throw bad(
      variable,
      uri,
      "not an ldap://, ldaps:// or ldapi:// URI with only a host and port",
    );
  }
  const scheme = match[1].toLowerCase() as "ldap" | "ldaps" | "ldapi";
  const authority = match[2];
  if (scheme === "ldapi") {
    let path: string;
    try {
      path = decodeURIComponent(authority);
    } catch {
      throw bad(variable, uri, "bad percent-encoding in the socket path");
    }
    if (path === "") path = DEFAULT_LDAPI_PATH;
    if (!path.startsWith("/") || path.includes("\0")) {
      throw bad(variable, uri, "the socket path must be absolute");
    }
    return { kind: "ldapi", uri, path };
  }
  const hostPort = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]@]*))(?::([0-9]{1,5}))?$/
    .exec(authority);
  if (!hostPort) throw bad(variable, uri, "bad host or port");
  const host = hostPort[1] ?? hostPort[2] ?? "";
  const port = hostPort[3] === undefined
    ? (scheme === "ldaps" ? 636 : 389)
    : Number(hostPort[3]);
  if (port < 1 || port > 65535) throw bad(variable, uri, "bad port");
  return { kind: scheme, uri, host: host === "" ? "localhost" : host, port };
}

/**
 * Parses `$CVM_LDAP_URI`: one URI or several separated by white space,
 * tried in that order.
 *
 * @param variable The setting's name, for errors.
 * @param text Its value.
 * @returns The endpoints, at least one.
 * @throws {CvmError} CONFIG naming `variable` when unset, empty or bad.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLdapUris } from "./uri.ts";
 * const endpoints = parseLdapUris("CVM_LDAP_URI", "ldap://a ldap://b:3389");
 * assert.equal(endpoints.length, 2);
 * ```
 */
export function parseLdapUris(
  variable: string,
  text: string | undefined,
): LdapEndpoint[] {
  const uris = (text ?? "").split(/\s+/).filter((u) => u !== "");
  if (uris.length === 0) {
    throw new CvmError(ErrorCode.CONFIG, `$${variable} is not set`);
  }
  return uris.map((uri) => parseLdapUri(variable, uri));
}
