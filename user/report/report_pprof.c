// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "profile.pb-c.h"
#include "report/report_pprof.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* Everything the Profile points to, freed together. */
struct builder {
	Profile prof;
	char **strings;
	size_t nstrings;
	ValueType types[4], period_type;
	ValueType *type_ptrs[4];
	Function *functions;
	Function **function_ptrs;
	Location *locations;
	Location **location_ptrs;
	Line *lines;
	Line **line_ptrs;
	size_t nfunctions, cap_functions;
	Sample *samples;
	Sample **sample_ptrs;
	uint64_t *location_ids;
	int64_t *values;
	int64_t comment;
};

/* Index of s in the string table, added when new; -1 on ENOMEM. */
static int64_t intern(struct builder *b, const char *s)
{
	char **grown;

	for (size_t i = 0; i < b->nstrings; i++)
		if (!strcmp(b->strings[i], s))
			return i;
	grown = realloc(b->strings, (b->nstrings + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	b->strings = grown;
	b->strings[b->nstrings] = strdup(s);
	return b->strings[b->nstrings] ? (int64_t)b->nstrings++ : -1;
}

/* The function (and its location, same id) named name; 0 on ENOMEM. */
static uint64_t function_id(struct builder *b, const char *name)
{
	int64_t str = intern(b, name);

	if (str < 0)
		return 0;
	for (size_t i = 0; i < b->nfunctions; i++)
		if (b->functions[i].name == str)
			return b->functions[i].id;
	if (b->nfunctions == b->cap_functions) {
		size_t cap = b->cap_functions ? b->cap_functions * 2 : 64;
		Function *f = realloc(b->functions, cap * sizeof(*f));

		if (!f)
			return 0;
		b->functions = f;
		b->cap_functions = cap;
	}
	perftools__profiles__function__init(&b->functions[b->nfunctions]);
	b->functions[b->nfunctions].id = b->nfunctions + 1;
	b->functions[b->nfunctions].name = str;
	b->functions[b->nfunctions].system_name = str;
	return ++b->nfunctions;
}

/* Locations and lines mirror the functions one to one: frames come
 * symbolized, without addresses. Pointer arrays are made once all exist. */
static int link_tables(struct builder *b)
{
	size_t n = b->nfunctions;

	b->locations = calloc(n ?: 1, sizeof(*b->locations));
	b->lines = calloc(n ?: 1, sizeof(*b->lines));
	b->function_ptrs = calloc(n ?: 1, sizeof(*b->function_ptrs));
	b->location_ptrs = calloc(n ?: 1, sizeof(*b->location_ptrs));
	b->line_ptrs = calloc(n ?: 1, sizeof(*b->line_ptrs));
	if (!b->locations || !b->lines || !b->function_ptrs || !b->location_ptrs || !b->line_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		perftools__profiles__line__init(&b->lines[i]);
		b->lines[i].function_id = b->functions[i].id;
		b->line_ptrs[i] = &b->lines[i];
		perftools__profiles__location__init(&b->locations[i]);
		b->locations[i].id = b->functions[i].id;
		b->locations[i].n_line = 1;
		b->locations[i].line = &b->line_ptrs[i];
		b->location_ptrs[i] = &b->locations[i];
		b->function_ptrs[i] = &b->functions[i];
	}
	b->prof.n_function = b->prof.n_location = n;
	b->prof.function = b->function_ptrs;
	b->prof.location = b->location_ptrs;
	return 0;
}

static int add_samples(struct builder *b, const struct mo_run *run)
{
	size_t nsites = 0, nframes = 0, k = 0, f = 0;

	for (size_t i = 0; i < run->nsites; i++)
		if (run->sites[i].kind == MO_SITE_ALLOC && run->sites[i].nframes) {
			nsites++;
			nframes += run->sites[i].nframes;
		}
	if (!nsites)
		return -ENOENT;
	b->samples = calloc(nsites, sizeof(*b->samples));
	b->sample_ptrs = calloc(nsites, sizeof(*b->sample_ptrs));
	b->location_ids = calloc(nframes, sizeof(*b->location_ids));
	b->values = calloc(nsites * 4, sizeof(*b->values));
	if (!b->samples || !b->sample_ptrs || !b->location_ids || !b->values)
		return -ENOMEM;
	for (size_t i = 0; i < run->nsites; i++) {
		const struct mo_site_rec *site = &run->sites[i];
		Sample *s = &b->samples[k];
		int64_t *v = &b->values[4 * k];

		if (site->kind != MO_SITE_ALLOC || !site->nframes)
			continue;
		perftools__profiles__sample__init(s);
		s->location_id = &b->location_ids[f];
		/* pprof wants the leaf first; sites are root -> leaf. */
		for (size_t j = site->nframes; j-- > 0;) {
			b->location_ids[f] = function_id(b, site->frames[j]);
			if (!b->location_ids[f++])
				return -ENOMEM;
		}
		s->n_location_id = site->nframes;
		v[0] = site->count;
		v[1] = site->bytes;
		/* Live blocks are not counted apart: estimate them at the site's mean size. */
		v[2] = site->bytes && site->live > 0 ? (int64_t)((double)site->live * site->count / site->bytes + 0.5) : 0;
		v[3] = site->live > 0 ? site->live : 0;
		s->value = v;
		s->n_value = 4;
		b->sample_ptrs[k++] = s;
	}
	b->prof.sample = b->sample_ptrs;
	b->prof.n_sample = k;
	return 0;
}

static int add_types(struct builder *b, const struct mo_run *run)
{
	static const char *const names[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	char comment[128];

	for (int i = 0; i < 4; i++) {
		perftools__profiles__value_type__init(&b->types[i]);
		b->types[i].type = intern(b, names[i][0]);
		b->types[i].unit = intern(b, names[i][1]);
		if (b->types[i].type < 0 || b->types[i].unit < 0)
			return -ENOMEM;
		b->type_ptrs[i] = &b->types[i];
	}
	b->prof.sample_type = b->type_ptrs;
	b->prof.n_sample_type = 4;
	perftools__profiles__value_type__init(&b->period_type);
	b->period_type.type = intern(b, "space");
	b->period_type.unit = intern(b, "bytes");
	b->prof.period_type = &b->period_type;
	b->prof.period = run->alloc_sample_bytes;
	b->prof.duration_nanos = run->duration_s * 1e9;
	b->prof.default_sample_type = b->types[3].type;
	snprintf(comment, sizeof(comment), "memobs %s: sampled every %llu allocated bytes, weighted", MEMOBS_VERSION,
		 (unsigned long long)run->alloc_sample_bytes);
	b->comment = intern(b, comment);
	b->prof.comment = &b->comment;
	b->prof.n_comment = 1;
	return b->period_type.type < 0 || b->comment < 0 ? -ENOMEM : 0;
}

static int gzip(const unsigned char *in, size_t len, unsigned char **out, size_t *out_len)
{
	z_stream zs = {};
	size_t cap = deflateBound(&zs, len) + 64;

	*out = malloc(cap);
	if (!*out || deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(*out);
		return -ENOMEM;
	}
	zs.next_in = (unsigned char *)in;
	zs.avail_in = len;
	zs.next_out = *out;
	zs.avail_out = cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(*out);
		return -ENOMEM;
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return 0;
}

static void builder_free(struct builder *b)
{
	for (size_t i = 0; i < b->nstrings; i++)
		free(b->strings[i]);
	free(b->strings);
	free(b->functions);
	free(b->function_ptrs);
	free(b->locations);
	free(b->location_ptrs);
	free(b->lines);
	free(b->line_ptrs);
	free(b->samples);
	free(b->sample_ptrs);
	free(b->location_ids);
	free(b->values);
}

int report_pprof(const struct mo_run *run, unsigned char **out, size_t *len)
{
	struct builder b = {};
	unsigned char *packed = NULL;
	size_t size;
	int err;

	perftools__profiles__profile__init(&b.prof);
	err = intern(&b, "") < 0 ? -ENOMEM : 0;	/* string 0 is always "" */
	err = err ?: add_types(&b, run);
	err = err ?: add_samples(&b, run);
	err = err ?: link_tables(&b);
	if (!err) {
		b.prof.string_table = b.strings;
		b.prof.n_string_table = b.nstrings;
		size = perftools__profiles__profile__get_packed_size(&b.prof);
		packed = malloc(size ?: 1);
		err = packed ? 0 : -ENOMEM;
	}
	if (!err) {
		perftools__profiles__profile__pack(&b.prof, packed);
		err = gzip(packed, size, out, len);
	}
	free(packed);
	builder_free(&b);
	return err;
}
