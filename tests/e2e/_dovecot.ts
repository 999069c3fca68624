/**
 * What the Dovecot end-to-end tests share: where Debian keeps Dovecot's
 * helpers, the mail user, and the check that a private Dovecot can run
 * here at all (its programs and helpers, root, its users, and the user
 * dovecot able to run our cvm, since Dovecot's auth process runs
 * cvm-checkpassword as that user).
 *
 * @module
 */

import { dist, ensureDist, requirePrograms, skip } from "./_helpers.ts";
import { exists } from "../_helpers.ts";
import { getpwnam } from "../../sys/passwd.ts";

/** Where Debian's dovecot keeps its helpers. */
export const LIBEXEC = "/usr/lib/dovecot";
/** The mail user: nobody/nogroup, a uid Dovecot accepts (>= 500). */
export const MAIL_UID = 65534;
/** The mail user's group. */
export const MAIL_GID = 65534;

/**
 * Whether a private Dovecot can run here; when it cannot, skips (see
 * `skip`) with the reason and returns undefined. Builds dist/ first.
 *
 * @param test The test's short name, for the skip line.
 * @returns The paths of `dovecot` and `doveadm`.
 */
export async function dovecotPrograms(
  test: string,
): Promise<{ dovecot: string; doveadm: string } | undefined> {
  const programs = requirePrograms(test, ["dovecot", "doveadm"]);
  if (!programs) return undefined;
  for (const helper of ["checkpassword-reply", "imap", "imap-login"]) {
    if (!exists(`${LIBEXEC}/${helper}`, { followLinks: true })) {
      skip(
        test,
        `${LIBEXEC}/${helper} is missing (dovecot-core, dovecot-imapd)`,
      );
      return undefined;
    }
  }
  if (Deno.uid() !== 0) {
    skip(
      test,
      "Dovecot's master must run as root (it changes to the mail user)",
    );
    return undefined;
  }
  const internal = getpwnam("dovecot");
  if (internal === undefined || getpwnam("dovenull") === undefined) {
    skip(
      test,
      "the users dovecot and dovenull are missing (dovecot-core makes them)",
    );
    return undefined;
  }
  await ensureDist();
  const probe = await new Deno.Command(`${dist}/cvm`, {
    args: ["--list"],
    uid: internal.uid,
    gid: internal.gid,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!probe.success) {
    skip(
      test,
      `the user dovecot cannot run ${dist}/cvm (is the tree readable by it?): ${
        new TextDecoder().decode(probe.stderr).trim()
      }`,
    );
    return undefined;
  }
  return { dovecot: programs.dovecot, doveadm: programs.doveadm };
}
