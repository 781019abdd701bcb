/* SPDX-License-Identifier: GPL-2.0 */
/* Which file has which GNU build id: BPF stacks name code by (build id, file
 * offset), so that stacks of processes long gone can still be symbolized.
 * Files are learned from executables at exec, from /proc/PID/maps of live
 * processes, and at the end, for ids still unknown, from the library
 * directories. No libbpf here. */
#ifndef MO_BUILDIDS_H
#define MO_BUILDIDS_H

#include <stdbool.h>
#include <sys/types.h>

#define MO_BUILD_ID_HEX 41	/* 20 bytes as hex, NUL */

struct mo_buildids;

struct mo_buildids *buildids__new(void);
void buildids__free(struct mo_buildids *b);

/* Learn the build id of the ELF file at path (read once per file). */
void buildids__add_file(struct mo_buildids *b, const char *path);

/* Learn a file whose build id (hex) is known already. */
void buildids__add_known(struct mo_buildids *b, const char *hex, const char *path, dev_t dev, ino_t ino);

/* The build id (hex) of a file learned by its (st_dev, st_ino), or NULL. */
const char *buildids__id_of(const struct mo_buildids *b, dev_t dev, ino_t ino);

/* Learn every file mapped by a live process (through /proc/PID/map_files,
 * which works across mount namespaces). 0/-errno. */
int buildids__add_maps(struct mo_buildids *b, pid_t pid);

/* Learn the shared objects of the usual library directories. */
void buildids__add_lib_dirs(struct mo_buildids *b);

/* The path of a file learned by its (st_dev, st_ino), or NULL. */
const char *buildids__path(const struct mo_buildids *b, dev_t dev, ino_t ino);

/* The path of the file with this build id (hex), or NULL. */
const char *buildids__find(const struct mo_buildids *b, const char *hex);

/* Hex form of a build id as the kernel gives it (20 bytes, a shorter id
 * padded with zeros: the padding kept out) into out[MO_BUILD_ID_HEX]. */
void buildids_hex(const unsigned char id[20], char out[MO_BUILD_ID_HEX]);

#endif
