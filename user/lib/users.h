/* SPDX-License-Identifier: GPL-2.0 */
/* User ids and names: parsing --uid, naming a uid in the report. */
#ifndef MO_USERS_H
#define MO_USERS_H

#include <stddef.h>
#include <sys/types.h>

#define MO_USER_LEN 33		/* a name as long as useradd allows, NUL included */

/* A uid given as a number or a user name. 0, -EINVAL (not a number and
 * not a possible name), -ENOENT (no such user). */
int users_parse(const char *arg, uid_t *out);

/* The user name of uid, or its number when it has none. Returns buf. */
const char *users_name(uid_t uid, char *buf, size_t len);

#endif
