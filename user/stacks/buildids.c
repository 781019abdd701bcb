// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/grow.h"
#include "stacks/buildids.h"
#include "probe/elfinfo.h"

struct entry {
	char id[MO_BUILD_ID_HEX];
	char *path;
};

struct file_key {
	dev_t dev;
	ino_t ino;
	char *path;		/* as first learned; NULL on ENOMEM */
	char id[MO_BUILD_ID_HEX];	/* "" when it has none */
};

struct mo_buildids {
	struct entry *ids;
	size_t nids, cap_ids;
	struct file_key *seen;	/* files already read */
	size_t nseen, cap_seen;
	bool lib_dirs_done;
};

struct mo_buildids *buildids__new(void)
{
	return calloc(1, sizeof(struct mo_buildids));
}

void buildids__free(struct mo_buildids *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nids; i++)
		free(b->ids[i].path);
	free(b->ids);
	for (size_t i = 0; i < b->nseen; i++)
		free(b->seen[i].path);
	free(b->seen);
	free(b);
}

void buildids_hex(const unsigned char id[20], char out[MO_BUILD_ID_HEX])
{
	static const unsigned char zeros[12];
	size_t n = 20;

	/* The kernel pads shorter ids with zeros, without their length: ids are
	 * 20 bytes (sha1), 16 (md5, uuid) or 8 (xxhash), and one of those whose
	 * own last bytes are zeros keeps them (only a sha1 id ending in four
	 * zero bytes, one in 2^32, is taken for an md5 one). */
	if (!memcmp(id + 16, zeros, 4))
		n = memcmp(id + 8, zeros, 8) ? 16 : 8;
	/* Not snprintf: it runs for every frame of every stack read out. */
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[id[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[id[i] & 15];
	}
	out[2 * n] = 0;
}

/* True the first time a file is seen. */
static bool first_sight(struct mo_buildids *b, const struct stat *st, const char *path)
{
	for (size_t i = 0; i < b->nseen; i++)
		if (b->seen[i].dev == st->st_dev && b->seen[i].ino == st->st_ino)
			return false;
	if (GROW(b->seen, b->nseen + 1, b->cap_seen))
		return false;
	b->seen[b->nseen].dev = st->st_dev;
	b->seen[b->nseen].ino = st->st_ino;
	b->seen[b->nseen].path = strdup(path);
	b->seen[b->nseen].id[0] = 0;
	b->nseen++;
	return true;
}

static void add_id(struct mo_buildids *b, const char *id, const char *path)
{
	if (buildids__find(b, id))
		return;
	if (GROW(b->ids, b->nids + 1, b->cap_ids))
		return;
	snprintf(b->ids[b->nids].id, MO_BUILD_ID_HEX, "%s", id);
	b->ids[b->nids].path = strdup(path);
	if (b->ids[b->nids].path)
		b->nids++;
}

void buildids__add_file(struct mo_buildids *b, const char *path)
{
	char id[64];
	struct mo_elf *elf;
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || !first_sight(b, &st, path))
		return;
	elf = elf__open(path);
	if (elf && !elf__build_id(elf, id, sizeof(id)) && strlen(id) < MO_BUILD_ID_HEX) {
		add_id(b, id, path);
		snprintf(b->seen[b->nseen - 1].id, MO_BUILD_ID_HEX, "%s", id);
	}
	elf__free(elf);
}

void buildids__add_known(struct mo_buildids *b, const char *hex, const char *path, dev_t dev, ino_t ino)
{
	struct stat st = { .st_dev = dev, .st_ino = ino };

	if (first_sight(b, &st, path))
		snprintf(b->seen[b->nseen - 1].id, MO_BUILD_ID_HEX, "%s", hex);
	add_id(b, hex, path);
}

const char *buildids__id_of(const struct mo_buildids *b, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < b->nseen; i++)
		if (b->seen[i].dev == dev && b->seen[i].ino == ino)
			return b->seen[i].id[0] ? b->seen[i].id : NULL;
	return NULL;
}

int buildids__add_maps(struct mo_buildids *b, pid_t pid)
{
	char path[64], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char file[4096];

		/* Executable file mappings only: "start-end r-xp off dev ino path" */
		if (sscanf(line, "%lx-%lx %*4[r-]x%*c %*s %*s %*s %4095s", &start, &end, file) != 3 || file[0] != '/')
			continue;
		/* map_files opens the very file mapped, whatever its mount namespace;
		 * keep the process-side path for reports. */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid, start, end);
		buildids__add_file(b, access(file, R_OK) ? path : file);
	}
	fclose(f);
	return 0;
}

static void add_dir(struct mo_buildids *b, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR && depth > 0)
			add_dir(b, path, depth - 1);
		else if ((de->d_type == DT_REG || de->d_type == DT_LNK) && strstr(de->d_name, ".so"))
			buildids__add_file(b, path);
	}
	closedir(d);
}

void buildids__add_lib_dirs(struct mo_buildids *b)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
		"/usr/lib", "/usr/local/lib",
	};

	if (b->lib_dirs_done)
		return;
	b->lib_dirs_done = true;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		add_dir(b, dirs[i], 1);
}

const char *buildids__path(const struct mo_buildids *b, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < b->nseen; i++)
		if (b->seen[i].dev == dev && b->seen[i].ino == ino)
			return b->seen[i].path;
	return NULL;
}

const char *buildids__find(const struct mo_buildids *b, const char *hex)
{
	for (size_t i = 0; i < b->nids; i++)
		if (!strcmp(b->ids[i].id, hex))
			return b->ids[i].path;
	return NULL;
}
