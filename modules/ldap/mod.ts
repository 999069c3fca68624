/**
 * cvm-ldap: accounts from an LDAP directory (OpenLDAP, 389-ds, Active
 * Directory) through `ldapts`. The entry is found with the service
 * account; the password is checked by binding as the entry (the default)
 * or against its `userPassword`; facts come from its attributes.
 *
 * @example
 * ```ts
 * import { createLdapBackend } from "./mod.ts";
 * const backend = await createLdapBackend({
 *   CVM_LDAP_URI: "ldap://127.0.0.1:1",
 *   CVM_LDAP_BASE: "ou=people,dc=example,dc=com",
 * }, { persistent: false });
 * await backend.close?.();
 * ```
 *
 * @module
 */

export { createLdapBackend, type LdapAccount, ldapBackend } from "./backend.ts";
export {
  type ConnectionOptions,
  type LdapConnection,
  LdapResultError,
  LdapTimeoutError,
  openConnection,
  type SearchQuery,
  type SearchScope,
} from "./connection.ts";
export {
  BIND_POOL_SIZE,
  createDirectory,
  type DiagnosticSink,
  type Directory,
  SEARCH_POOL_SIZE,
} from "./directory.ts";
export {
  DEFAULT_FACT_MAP,
  entryFacts,
  type FactMap,
  type MappedFact,
  parseFactMap,
  REQUIRED_FACTS,
} from "./fact_map.ts";
export {
  compileFilter,
  DEFAULT_FILTER,
  escapeFilterValue,
  expandFilter,
  type FilterTemplate,
} from "./filter.ts";
export {
  DEFAULT_GROUP_FILTER,
  DEFAULT_TIMEOUT_SECONDS,
  type LdapAuthMode,
  type LdapSettings,
  readLdapSettings,
} from "./settings.ts";
export { type LdapEndpoint, parseLdapUri, parseLdapUris } from "./uri.ts";
export { isLockedPassword, verifyUserPassword } from "./verify_password.ts";
