// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "report/report_folded.h"

int report_folded_weight(const char *s, enum mo_fold_weight *out)
{
	static const char *const names[] = { "alloc", "live", "rss" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

/* ';' separates frames and the last ' ' the count: a frame keeps spaces
 * (the count is split off at the last one) but not semicolons or newlines. */
static void put_frame(FILE *out, const char *frame)
{
	for (const char *c = frame; *c; c++)
		fputc(*c == ';' ? ':' : (*c == '\n' || *c == '\r') ? ' ' : *c, out);
}

size_t report_folded(FILE *out, const struct mo_run *run, enum mo_fold_weight weight, bool with_lines)
{
	enum mo_site_of kind = weight == MO_FOLD_RSS ? MO_SITE_OF_RSS : MO_SITE_OF_ALLOC;
	size_t lines = 0;

	for (size_t i = 0; i < run->nsites; i++) {
		const struct mo_site_rec *site = &run->sites[i];
		int64_t value = weight == MO_FOLD_LIVE ? site->live : (int64_t)site->bytes;

		if (site->kind != kind || value <= 0 || !site->nframes)
			continue;
		if (site->where.comm) {
			put_frame(out, site->where.comm);
			fputc(';', out);
		}
		for (size_t f = 0; f < site->nframes; f++) {
			const char *src = site->where.sources ? site->where.sources[f] : "";
			const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;

			if (f)
				fputc(';', out);
			put_frame(out, site->frames[f]);
			if (with_lines && *base) {
				fputs(" (", out);
				put_frame(out, base);
				fputc(')', out);
			}
		}
		fprintf(out, " %lld\n", (long long)value);
		lines++;
	}
	return lines;
}
