/* SPDX-License-Identifier: GPL-2.0 */
/* Paths inside another process's root (/proc/PID/root), symlinks
 * resolved there as that process would see them. */
#ifndef MO_ROOTPATH_H
#define MO_ROOTPATH_H

#include <stddef.h>

/* dir/name into buf; -ENAMETOOLONG when it does not fit. */
int rootpath_join(char *buf, size_t len, const char *dir, const char *name);

/* n bytes of s at buf + *at (moved past them), NUL-terminated;
 * -ENAMETOOLONG when they do not fit in len. */
int rootpath_append(char *buf, size_t len, size_t *at, const char *s, size_t n);

/* path, absolute inside root, with every symlink resolved inside root (an
 * absolute link target starts again from root, not from memobs's "/").
 * The result (inside root, no root prefix) goes to buf. 0 or -errno. */
int rootpath_resolve(const char *root, const char *path, char *buf, size_t len);

#endif
