// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "probe/pidlinks.h"

struct mo_pid_links *pid_links__current(struct mo_pid_link_table *t, struct mo_links *links, pid_t tgid,
					const struct mo_file_id *id, const char *tag)
{
	for (size_t i = 0; i < t->n; i++) {
		struct mo_pid_links *e = &t->v[i];

		if (e->tgid != tgid || !file_id_same_file(&e->id, id) || strcmp(e->tag, tag))
			continue;
		if (file_id_same_content(&e->id, id))
			return e;
		/* Its breakpoints would land in the new code: out before it runs. */
		for (size_t j = 0; j < e->nfds; j++)
			links__close_now(links, e->fds[j]);
		*e = t->v[--t->n];
		return NULL;
	}
	return NULL;
}

bool pid_links__has(const struct mo_pid_link_table *t, pid_t tgid, const struct mo_file_id *id, const char *tag)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].tgid == tgid && file_id_same_content(&t->v[i].id, id) && !strcmp(t->v[i].tag, tag))
			return true;
	return false;
}

struct mo_pid_links *pid_links__new_entry(struct mo_pid_link_table *t, pid_t tgid, const struct mo_file_id *id,
					  const char *tag)
{
	struct mo_pid_links *e;

	if (GROW(t->v, t->n + 1, t->alloc))
		return NULL;
	e = &t->v[t->n];
	*e = (struct mo_pid_links){ .tgid = tgid, .id = *id };
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	return e;
}

void pid_links__keep(struct mo_pid_link_table *t, struct mo_pid_links *e)
{
	if (e == &t->v[t->n] && e->nfds)
		t->n++;
}

bool pid_links__exit(struct mo_pid_link_table *t, pid_t tgid)
{
	size_t kept = 0, had;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].tgid != tgid)
			t->v[kept++] = t->v[i];
	had = t->n - kept;
	t->n = kept;
	return had;
}

void pid_links__free(struct mo_pid_link_table *t)
{
	free(t->v);
	*t = (struct mo_pid_link_table){ 0 };
}
