// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "lib/grow.h"
#include "profile.pb-c.h"
#include "report/report_pprof.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Label Label;

#define MAX_TYPES 6
#define LABELS_PER_SAMPLE 2	/* comm, exe */

/* Everything the Profile points to, freed together. Functions and
 * locations grow while samples are added; the pointer arrays the Profile
 * wants are made once all exist (link_tables). */
struct builder {
	Profile prof;
	char **strings;
	size_t nstrings, cap_strings;
	ValueType types[MAX_TYPES], period_type;
	ValueType *type_ptrs[MAX_TYPES];
	size_t ntypes;
	bool heap, rss;		/* which kinds of sites the profile has */
	Function *functions;
	size_t nfunctions, cap_functions;
	Function **function_ptrs;
	Location *locations;	/* one Line each */
	Line *lines;
	size_t nlocations, cap_locations, cap_lines;
	Location **location_ptrs;
	Line **line_ptrs;
	Sample *samples;
	Sample **sample_ptrs;
	uint64_t *location_ids;
	int64_t *values;
	Label *labels;
	Label **label_ptrs;
	int64_t comment;
};

/* Index of s in the string table, added when new; -1 on ENOMEM. */
static int64_t intern(struct builder *b, const char *s)
{
	for (size_t i = 0; i < b->nstrings; i++)
		if (!strcmp(b->strings[i], s))
			return i;
	if (GROW(b->strings, b->nstrings + 1, b->cap_strings))
		return -1;
	b->strings[b->nstrings] = strdup(s);
	return b->strings[b->nstrings] ? (int64_t)b->nstrings++ : -1;
}

/* The function named name in file (string ids); 0 on ENOMEM. */
static uint64_t function_id(struct builder *b, int64_t name, int64_t file)
{
	Function *f;

	for (size_t i = 0; i < b->nfunctions; i++)
		if (b->functions[i].name == name && b->functions[i].filename == file)
			return b->functions[i].id;
	if (GROW(b->functions, b->nfunctions + 1, b->cap_functions))
		return 0;
	f = &b->functions[b->nfunctions];
	perftools__profiles__function__init(f);
	f->id = b->nfunctions + 1;
	f->name = f->system_name = name;
	f->filename = file;
	return ++b->nfunctions;
}

/* The location of a frame: its function (name, and file from its source
 * "file:line") at that line; 0 on ENOMEM. */
static uint64_t location_id(struct builder *b, const char *name, const char *source)
{
	const char *colon = source ? strrchr(source, ':') : NULL;
	char *file = colon ? strndup(source, colon - source) : NULL;
	int64_t line = colon ? strtoll(colon + 1, NULL, 10) : 0;
	int64_t name_str = intern(b, name), file_str = intern(b, file ? file : "");
	uint64_t func = name_str < 0 || file_str < 0 ? 0 : function_id(b, name_str, file_str);

	free(file);
	if (!func)
		return 0;
	for (size_t i = 0; i < b->nlocations; i++)
		if (b->lines[i].function_id == func && b->lines[i].line == line)
			return b->locations[i].id;
	if (GROW(b->locations, b->nlocations + 1, b->cap_locations) ||
	    GROW(b->lines, b->nlocations + 1, b->cap_lines))
		return 0;
	perftools__profiles__line__init(&b->lines[b->nlocations]);
	b->lines[b->nlocations].function_id = func;
	b->lines[b->nlocations].line = line;
	perftools__profiles__location__init(&b->locations[b->nlocations]);
	b->locations[b->nlocations].id = b->nlocations + 1;
	return ++b->nlocations;
}

static int link_tables(struct builder *b)
{
	b->function_ptrs = calloc(b->nfunctions ?: 1, sizeof(*b->function_ptrs));
	b->location_ptrs = calloc(b->nlocations ?: 1, sizeof(*b->location_ptrs));
	b->line_ptrs = calloc(b->nlocations ?: 1, sizeof(*b->line_ptrs));
	if (!b->function_ptrs || !b->location_ptrs || !b->line_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < b->nfunctions; i++)
		b->function_ptrs[i] = &b->functions[i];
	for (size_t i = 0; i < b->nlocations; i++) {
		b->line_ptrs[i] = &b->lines[i];
		b->locations[i].n_line = 1;
		b->locations[i].line = &b->line_ptrs[i];
		b->location_ptrs[i] = &b->locations[i];
	}
	b->prof.n_function = b->nfunctions;
	b->prof.function = b->function_ptrs;
	b->prof.n_location = b->nlocations;
	b->prof.location = b->location_ptrs;
	return 0;
}

static bool in_profile(const struct builder *b, const struct mo_site_rec *site)
{
	return site->nframes && (site->kind == MO_SITE_OF_ALLOC ? b->heap : b->rss);
}

/* The site's values in the order of the sample types. */
static void site_values(const struct builder *b, const struct mo_site_rec *site, int64_t *v)
{
	bool alloc = site->kind == MO_SITE_OF_ALLOC;

	memset(v, 0, b->ntypes * sizeof(*v));
	if (alloc) {
		v[0] = site->count;
		v[1] = site->bytes;
		/* Live blocks are not counted apart: estimate them at the site's mean size. */
		v[2] = site->bytes && site->live > 0 ? (int64_t)((double)site->live * site->count / site->bytes + 0.5) : 0;
		v[3] = site->live > 0 ? site->live : 0;
	} else {
		v[b->heap ? 4 : 0] = site->count;
		v[b->heap ? 5 : 1] = site->bytes;
	}
}

/* The program's comm and executable as string labels; returns how many. */
static size_t site_labels(struct builder *b, const struct mo_site_rec *site, Label *l, Label **ptrs)
{
	const char *keys[LABELS_PER_SAMPLE] = { "comm", "exe" };
	const char *vals[LABELS_PER_SAMPLE] = { site->where.comm, site->where.exe };
	size_t n = 0;

	for (size_t i = 0; i < LABELS_PER_SAMPLE; i++) {
		if (!vals[i])
			continue;
		perftools__profiles__label__init(&l[n]);
		l[n].key = intern(b, keys[i]);
		l[n].str = intern(b, vals[i]);
		if (l[n].key < 0 || l[n].str < 0)
			return 0;
		ptrs[n] = &l[n];
		n++;
	}
	return n;
}

/* One sample per site: its frames leaf first, then its program (comm, in
 * its executable) as the root, and the program as labels. */
static int add_samples(struct builder *b, const struct mo_run *run)
{
	size_t nsites = 0, nlocs = 0, k = 0, f = 0;

	for (size_t i = 0; i < run->nsites; i++)
		if (in_profile(b, &run->sites[i])) {
			nsites++;
			nlocs += run->sites[i].nframes + 1;
		}
	b->samples = calloc(nsites ?: 1, sizeof(*b->samples));
	b->sample_ptrs = calloc(nsites ?: 1, sizeof(*b->sample_ptrs));
	b->location_ids = calloc(nlocs ?: 1, sizeof(*b->location_ids));
	b->values = calloc((nsites ?: 1) * b->ntypes, sizeof(*b->values));
	b->labels = calloc((nsites ?: 1) * LABELS_PER_SAMPLE, sizeof(*b->labels));
	b->label_ptrs = calloc((nsites ?: 1) * LABELS_PER_SAMPLE, sizeof(*b->label_ptrs));
	if (!b->samples || !b->sample_ptrs || !b->location_ids || !b->values || !b->labels || !b->label_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < run->nsites; i++) {
		const struct mo_site_rec *site = &run->sites[i];
		Sample *s = &b->samples[k];

		if (!in_profile(b, site))
			continue;
		perftools__profiles__sample__init(s);
		s->location_id = &b->location_ids[f];
		/* pprof wants the leaf first; sites are root -> leaf. */
		for (size_t j = site->nframes; j-- > 0;) {
			const char *src = site->where.sources ? site->where.sources[j] : NULL;

			b->location_ids[f] = location_id(b, site->frames[j], src && *src ? src : NULL);
			if (!b->location_ids[f++])
				return -ENOMEM;
		}
		if (site->where.comm) {
			char *exe_line = NULL;

			if (site->where.exe && asprintf(&exe_line, "%s:0", site->where.exe) < 0)
				return -ENOMEM;
			b->location_ids[f] = location_id(b, site->where.comm, exe_line);
			free(exe_line);
			if (!b->location_ids[f++])
				return -ENOMEM;
		}
		s->n_location_id = &b->location_ids[f] - s->location_id;
		s->value = &b->values[b->ntypes * k];
		s->n_value = b->ntypes;
		site_values(b, site, s->value);
		s->label = &b->label_ptrs[LABELS_PER_SAMPLE * k];
		s->n_label = site_labels(b, site, &b->labels[LABELS_PER_SAMPLE * k], s->label);
		b->sample_ptrs[k++] = s;
	}
	b->prof.sample = b->sample_ptrs;
	b->prof.n_sample = k;
	return 0;
}

static int add_type(struct builder *b, const char *type, const char *unit)
{
	ValueType *t = &b->types[b->ntypes];

	perftools__profiles__value_type__init(t);
	t->type = intern(b, type);
	t->unit = intern(b, unit);
	if (t->type < 0 || t->unit < 0)
		return -ENOMEM;
	b->type_ptrs[b->ntypes++] = t;
	return 0;
}

/* Heap types when the run has allocation sites, RSS growth types when it
 * has growth sites; the default is the live heap, else the growth. */
static int add_types(struct builder *b, const struct mo_run *run)
{
	char comment[192];
	int err = 0;

	for (size_t i = 0; i < run->nsites; i++) {
		b->heap |= run->sites[i].kind == MO_SITE_OF_ALLOC && run->sites[i].nframes;
		b->rss |= run->sites[i].kind == MO_SITE_OF_RSS && run->sites[i].nframes;
	}
	if (!b->heap && !b->rss)
		return -ENOENT;
	if (b->heap) {
		err = err ?: add_type(b, "alloc_objects", "count");
		err = err ?: add_type(b, "alloc_space", "bytes");
		err = err ?: add_type(b, "inuse_objects", "count");
		err = err ?: add_type(b, "inuse_space", "bytes");
	}
	if (b->rss) {
		err = err ?: add_type(b, "rss_growth_pages", "count");
		err = err ?: add_type(b, "rss_growth_space", "bytes");
	}
	if (err)
		return err;
	b->prof.sample_type = b->type_ptrs;
	b->prof.n_sample_type = b->ntypes;
	perftools__profiles__value_type__init(&b->period_type);
	b->period_type.type = intern(b, "space");
	b->period_type.unit = intern(b, "bytes");
	b->prof.period_type = &b->period_type;
	b->prof.period = b->heap ? run->alloc_sample_bytes : run->rss_sample_bytes;
	b->prof.duration_nanos = run->duration_s * 1e9;
	b->prof.default_sample_type = b->types[b->heap ? 3 : b->ntypes - 1].type;
	snprintf(comment, sizeof(comment), "memobs %s: sampled every %llu allocated bytes, every %llu bytes of RSS "
		 "growth, weighted", MEMOBS_VERSION, (unsigned long long)run->alloc_sample_bytes,
		 (unsigned long long)run->rss_sample_bytes);
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
	free(b->labels);
	free(b->label_ptrs);
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
