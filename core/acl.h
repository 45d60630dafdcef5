/* acl: ZooKeeper ACL semantics: permission checks against a connection's
 * authenticated ids (world, digest, ip, super), the create/setACL fix-up
 * that expands the "auth" scheme into the creator's ids and rejects
 * invalid ACLs, digest id computation, and the binary encoding of ACL
 * lists inside zablab's txns and snapshots.
 * Owns nothing. Never allocates, never consults anything but its inputs. */
#ifndef ZABLAB_CORE_ACL_H
#define ZABLAB_CORE_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/zk_types.h"

/* ZOK if one of `acl` grants `perm` to one of `auth` (or acl is empty,
 * or auth holds a "super" id), else ZNOAUTH. (PrepRequestProcessor.checkACL.) */
int acl_check(const struct zk_acl *acl, uint32_t acl_count, int32_t perm,
              const struct zk_id *auth, uint32_t auth_count);

/* Expands and validates a requested ACL list into out (cap entries):
 * world:anyone kept; auth:* replaced by each authenticated digest/super id
 * of the creator; digest ids must look like "user:base64(sha1)"; ip ids must
 * be an IPv4 address with optional /bits; duplicates removed.
 * Returns the number of entries, or ZINVALIDACL (empty list, unknown scheme,
 * bad id, auth with no authenticated id, or perms outside ALL). */
int acl_fixup(const struct zk_acl *acl, uint32_t acl_count,
              const struct zk_id *auth, uint32_t auth_count,
              struct zk_acl *out, uint32_t cap);

/* "user:password" -> "user:base64(sha1(user:password))" into out.
 * Returns ZOK or ZBADARGUMENTS (no ':' or out too small). */
int acl_digest_id(const char *user_pass, size_t len, char *out, size_t cap);

/* Encoding: u32 count, then per entry u32 perms, blob scheme, blob id. */
void acl_write(struct bytes_w *w, const struct zk_acl *acl, uint32_t count);
/* Reads at most `cap` entries into out (NULL: validate and count only);
 * false on malformed input. */
bool acl_read(struct bytes_r *r, struct zk_acl *out, uint32_t cap, uint32_t *count);

#endif
