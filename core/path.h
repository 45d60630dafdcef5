/* path: ZooKeeper path rules (PathUtils.validatePath) and the parent/basename
 * split every tree operation needs.
 * Owns: pure functions over (pointer, length) byte strings in UTF-8.
 * Never: allocate or keep a pointer to its input. */
#ifndef ZABLAB_CORE_PATH_H
#define ZABLAB_CORE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* ZOK if `path` is a valid absolute znode path, else ZBADARGUMENTS.
 * Rules: starts with '/', no trailing '/' (except "/"), no empty component,
 * no "." or ".." component, no NUL, no control characters U+0001-001F,
 * U+007F-009F, no U+D800-F8FF or U+FFF0-FFFF (so no supplementary
 * characters either: Java sees them as surrogates), valid UTF-8 only,
 * at most ZK_PATH_MAX bytes. */
int zk_path_validate(const char *path, size_t len);

/* As ZooKeeper validates a sequential create's path: the path with a digit
 * appended, so "/queue/" is accepted when `sequential`. */
int zk_path_validate_create(const char *path, size_t len, bool sequential);

/* Length of the parent's path: "/a/b" -> 2 ("/a"), "/a" -> 1 ("/"),
 * "/" -> 0 (the root has no parent). `path` must be valid. */
size_t zk_path_parent_len(const char *path, size_t len);

/* Offset of the last component ("/a/bc" -> 3). 1 for "/x", 0 for "/". */
size_t zk_path_basename_off(const char *path, size_t len);

/* True if `prefix` is `path` or one of its ancestors. */
bool zk_path_is_prefix(const char *prefix, size_t plen, const char *path, size_t len);

#endif
