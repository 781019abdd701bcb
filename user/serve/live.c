// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ncurses.h>
#include "serve/live.h"

#define HEADER_ROWS 4		/* status, keys, blank, column titles */
#define CTRL_C 3

struct mo_live {
	SCREEN *screen;
	char *saved_ctype;	/* LC_CTYPE before, restored on free */
	size_t *order;		/* indices of the processes shown */
	size_t cap;
	enum mo_live_by by;	/* rows: processes, or groups of them (g) */
	bool quit;
};

struct mo_live *live__new(void)
{
	struct mo_live *live;
	const char *ctype;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		errno = ENOTTY;
		return NULL;
	}
	live = calloc(1, sizeof(*live));
	if (!live)
		return NULL;
	/* Multibyte comms and phase names need the user's character set;
	 * LC_CTYPE only, so that numbers elsewhere keep their '.' decimal point. */
	ctype = setlocale(LC_CTYPE, NULL);
	live->saved_ctype = strdup(ctype ? ctype : "C");
	setlocale(LC_CTYPE, "");
	/* newterm, not initscr: initscr exits the process when $TERM is unusable. */
	live->screen = newterm(NULL, stdout, stdin);
	if (!live->saved_ctype || !live->screen) {
		int err = live->saved_ctype ? ENOTTY : ENOMEM;

		live__free(live);
		errno = err;
		return NULL;
	}
	set_term(live->screen);
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	return live;
}

/* A line in reverse video across the whole width. */
static void bar(int row, const char *text)
{
	int len = (int)strlen(text);

	attron(A_REVERSE);
	mvaddnstr(row, 0, text, COLS);
	for (int x = len; x < COLS; x++)
		addch(' ');
	attroff(A_REVERSE);
}

static int draw_groups(const struct mo_live *live, const struct mo_live_view *view, size_t fit)
{
	struct mo_live_group *groups;
	ssize_t n = live_view_groups(view, live->by, &groups);
	char line[512];

	if (n < 0)
		return n;
	live_view_group_columns(live->by, line, sizeof(line));
	attron(A_BOLD);
	mvaddnstr(3, 0, line, COLS);
	attroff(A_BOLD);
	for (size_t i = 0; i < (size_t)n && i < fit; i++) {
		if (i + 1 == fit && fit < (size_t)n)
			snprintf(line, sizeof(line), "  ... %zu more", (size_t)n - i);
		else
			live_view_group_row(live->by, &groups[i], line, sizeof(line));
		mvaddnstr(HEADER_ROWS + i, 0, line, COLS);
	}
	free(groups);
	return 0;
}

int live__draw(struct mo_live *live, const struct mo_live_view *view)
{
	size_t fit = LINES > HEADER_ROWS ? (size_t)(LINES - HEADER_ROWS) : 0, n;
	char line[512];

	if (fit > live->cap) {
		size_t *p = realloc(live->order, fit * sizeof(*p));

		if (!p)
			return -ENOMEM;
		live->order = p;
		live->cap = fit;
	}
	erase();
	live_view_status(view, line, sizeof(line));
	bar(0, line);
	snprintf(line, sizeof(line), "q: quit  g: rows by process, comm, user, cgroup (now: %s)",
		 live_view_group_name(live->by));
	mvaddnstr(1, 0, line, COLS);
	if (live->by == MO_LIVE_BY_PROCESS) {
		live_view_columns(line, sizeof(line));
		attron(A_BOLD);
		mvaddnstr(3, 0, line, COLS);
		attroff(A_BOLD);
		n = live_view_order(view, live->order, fit);
		for (size_t i = 0; i < n; i++) {
			/* The last row that fits says what did not. */
			if (i + 1 == n && n < view->nprocs)
				snprintf(line, sizeof(line), "  ... %zu more", view->nprocs - i);
			else
				live_view_row(&view->procs[live->order[i]], line, sizeof(line));
			mvaddnstr(HEADER_ROWS + i, 0, line, COLS);
		}
	} else if (draw_groups(live, view, fit)) {
		return -ENOMEM;
	}
	return refresh() == ERR ? -EIO : 0;
}

bool live__quit(struct mo_live *live)
{
	int c;

	while ((c = getch()) != ERR)
		if (c == 'q' || c == 'Q' || c == CTRL_C)
			live->quit = true;
		else if (c == 'g' || c == 'G')
			live->by = (live->by + 1) % MO_LIVE_BY_NR;
	return live->quit;
}

void live__free(struct mo_live *live)
{
	if (!live)
		return;
	if (live->screen) {
		endwin();
		delscreen(live->screen);
	}
	if (live->saved_ctype)
		setlocale(LC_CTYPE, live->saved_ctype);
	free(live->saved_ctype);
	free(live->order);
	free(live);
}
