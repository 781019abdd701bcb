/* SPDX-License-Identifier: GPL-2.0 */
/* What the SVG and HTML writer tests share: a synthetic run whose every
 * name can be made hostile, rendering to a string, an assertion that the
 * output holds some strings, and a strict checker of well-formed XML (and
 * of HTML as report_html writes it). */
#ifndef MO_REPORT_FIXTURE_H
#define MO_REPORT_FIXTURE_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "run_fixture.h"

#define MiB (1LL << 20)

/* Each of needles is in hay. */
#define ASSERT_HAS(hay, ...) do { \
	const char *const _n[] = { __VA_ARGS__ }; \
	for (size_t _i = 0; _i < sizeof(_n) / sizeof(_n[0]); _i++) \
		ASSERT_TRUE(strstr(hay, _n[_i]), "missing %s", _n[_i]); \
	} while (0)

static struct mo_phase_rec *fixture_phase(struct mo_run *run, const char *name, size_t parent, unsigned depth,
					  double start, double end, int64_t peak)
{
	struct mo_phase_rec *ph = fixture_phase_at(run, name, parent, depth, start, end);

	ph->rss_baseline = peak / 2;
	ph->rss_peak = peak;
	ph->rss_end = peak / 2;
	ph->items = depth ? 10 : 0;
	return ph;
}

static struct mo_proc_rec *fixture_proc(struct mo_run *run, pid_t pid, const char *comm, const char *arg,
					double start, double end, int64_t peak)
{
	struct mo_proc_rec *p = run_add_proc(run);

	p->pid = pid;
	p->ppid = 1;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->argv = strv(comm, arg, NULL);
	p->start_s = start;
	p->end_s = end;
	p->exited = true;
	p->exit_status = 0;
	p->heap_probed = true;
	p->rss_peak = peak;
	p->rss_peak_member[MO_MEM_ANON] = peak * 3 / 4;
	p->rss_peak_member[MO_MEM_FILE] = peak / 4;
	return p;
}

/* A 10 s run: phases outer [1,6] holding inner [2,4], then late [6,9]
 * (names replaced by `name` when given), three processes (the last one
 * memobs's own marker), nsamples samples, two marks. Every free-text field
 * holds `name` when given. */
static void fixture_run(struct mo_run *run, const char *name, size_t nsamples)
{
	const char *n = name ? name : "x";

	run_init(run);
	run->command = strv("make", n, NULL);
	run->cwd = strdup(n);
	run->label = strdup(n);
	run->git.present = true;
	snprintf(run->git.commit, sizeof(run->git.commit), "0123456789abcdef0123456789abcdef01234567");
	snprintf(run->git.branch, sizeof(run->git.branch), "%s", n);
	snprintf(run->host, sizeof(run->host), "%s", n);
	snprintf(run->time_utc, sizeof(run->time_utc), "2024-05-01T12:00:00Z");
	run->ncpus = 4;
	run->heap = true;
	run->duration_s = 10;
	run->exit_status = 0;
	run->rss_peak = 64 * MiB;
	run->heap_peak = 16 * MiB;
	fixture_phase(run, "main", 0, 0, 0, 10, 64 * MiB);
	fixture_phase(run, name ? name : "outer", 0, 1, 1, 6, 48 * MiB);
	fixture_phase(run, name ? name : "inner", 1, 2, 2, 4, 40 * MiB);
	fixture_phase(run, name ? name : "late", 0, 1, 6, 9, 64 * MiB);
	fixture_proc(run, 100, name ? name : "cc1", n, 0.5, 9.5, 60 * MiB);
	fixture_proc(run, 101, name ? name : "ld", n, 6, 9, 20 * MiB);
	fixture_proc(run, 102, "memobs", "mark", 1, 1.01, 90 * MiB)->observer = true;
	for (size_t i = 0; i < nsamples; i++) {
		struct mo_sample s = { .t = 0.1 + 9.8 * i / (nsamples > 1 ? nsamples - 1 : 1) };

		s.rss_member[MO_MEM_ANON] = (int64_t)(s.t * 4 * MiB);
		s.rss_member[MO_MEM_FILE] = 8 * MiB;
		s.rss_member[MO_MEM_SHMEM] = MiB;
		s.rss = s.rss_member[MO_MEM_ANON] + s.rss_member[MO_MEM_FILE] + s.rss_member[MO_MEM_SHMEM];
		s.heap_live = (int64_t)(s.t * MiB);
		s.nprocs = 2;
		run_add_sample(run, &s, 0);
	}
	for (int i = 0; i < 2; i++) {
		struct mo_mark_rec *m = run_add_mark(run);

		m->t = 3 + i;
		snprintf(m->label, sizeof(m->label), "%s", name ? name : i ? "second" : "first");
	}
	run_add_warning(run, "%s", n);
}

static bool utf8_ok(const unsigned char *s, size_t *len)
{
	unsigned c = s[0], n, cp;

	if (c < 0x80) {
		*len = 1;
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
	}
	n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
	if (!n || c > 0xf4)
		return false;
	cp = c & (0x7f >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*len = n;
	return !(n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)) &&
	       !(n == 4 && (cp < 0x10000 || cp > 0x10ffff));
}

static bool entity_ok(const char *p)
{
	static const char *const named[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strncmp(p, named[i], strlen(named[i])))
			return true;
	if (p[1] != '#')
		return false;
	p += 2;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == ';';
}

static bool is_void(const char *name, size_t len)
{
	return (len == 4 && !strncmp(name, "meta", 4)) || (len == 2 && !strncmp(name, "br", 2)) ||
	       (len == 5 && !strncmp(name, "input", 5));
}

#define FAIL(...) do { snprintf(why, whylen, __VA_ARGS__); return false; } while (0)

/* Well-formed XML: tags nest and match, attributes are quoted and hold no
 * '<', every '&' starts an entity, only XML characters in valid UTF-8.
 * html: <!DOCTYPE>, unclosed void elements, raw text inside script and
 * style. Says why not in why. */
static bool xml_well_formed(const char *doc, bool html, char *why, size_t whylen)
{
	const char *stack[64], *p = doc;
	size_t stlen[64], depth = 0, len;

	for (const unsigned char *u = (const unsigned char *)doc; *u; u += len)
		if (!utf8_ok(u, &len))
			FAIL("bad character at offset %zu", (size_t)((const char *)u - doc));
	while (*p) {
		if (*p == '&' && !entity_ok(p))
			FAIL("bare & at offset %zu: %.20s", (size_t)(p - doc), p);
		if (*p != '<') {
			p++;
			continue;
		}
		if (!strncmp(p, "<?", 2) || !strncmp(p, "<!", 2)) {
			const char *end = strstr(p, !strncmp(p, "<!--", 4) ? "-->" : ">");

			if (!end)
				FAIL("unterminated declaration");
			p = end + 1;
			continue;
		}
		if (p[1] == '/') {
			const char *name = p + 2;

			len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-");
			if (!depth || stlen[depth - 1] != len || strncmp(stack[depth - 1], name, len) || name[len] != '>')
				FAIL("mismatched </%.*s> at offset %zu", (int)len, name, (size_t)(p - doc));
			depth--;
			p = name + len + 1;
			continue;
		}
		const char *name = p + 1;

		len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-");
		if (!len)
			FAIL("bad tag at offset %zu: %.20s", (size_t)(p - doc), p);
		p = name + len;
		for (;;) {
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '>' || !strncmp(p, "/>", 2))
				break;
			while (isalnum((unsigned char)*p) || *p == '-' || *p == ':' || *p == '_')
				p++;
			if (*p != '=' || (p[1] != '"' && p[1] != '\''))
				FAIL("unquoted attribute at offset %zu: %.30s", (size_t)(p - doc), p);
			char q = p[1];

			for (p += 2; *p != q; p++) {
				if (!*p || *p == '<')
					FAIL("bad attribute value at offset %zu", (size_t)(p - doc));
				if (*p == '&' && !entity_ok(p))
					FAIL("bare & in attribute at offset %zu", (size_t)(p - doc));
			}
			p++;
		}
		if (*p == '/') {
			p += 2;
			continue;
		}
		p++;
		if (html && is_void(name, len))
			continue;
		if (html && ((len == 6 && !strncmp(name, "script", 6)) || (len == 5 && !strncmp(name, "style", 5)))) {
			char close[16];
			const char *end;

			snprintf(close, sizeof(close), "</%.*s>", (int)len, name);
			end = strstr(p, close);
			if (!end)
				FAIL("unterminated <%.*s>", (int)len, name);
			p = end + strlen(close);
			continue;
		}
		if (depth == 64)
			FAIL("nested too deep");
		stack[depth] = name;
		stlen[depth++] = len;
	}
	if (depth)
		FAIL("<%.*s> never closed", (int)stlen[depth - 1], stack[depth - 1]);
	return true;
}

#undef FAIL

/* Names no report may pass through unescaped. */
static const char hostile[] = "<script>alert(\"x\")</script> & 'q' \x01\xff\xef\xbf\xbe]]>";

#endif
