// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ncurses.h>
#include "lib/grow.h"
#include "serve/live.h"

#define HEADER_ROWS 4		/* status, keys, blank, column titles */
#define CTRL_C 3
#define LOG_TAIL_BYTES 16384	/* read from the log's end at each refresh */

struct mo_live {
	SCREEN *screen;
	FILE *tty_in, *tty_out;	/* the controlling terminal */
	char *log;		/* the command's output, or NULL */
	int log_fd;
	char *saved_ctype;	/* LC_CTYPE before, restored on free */
	size_t *order;		/* indices of the processes shown */
	size_t cap;
	enum mo_live_by by;	/* rows: processes, or groups of them (g) */
	bool quit;
};

/* The controlling terminal twice (ncurses reads and writes FILEs), or -1. */
static int open_tty(struct mo_live *live)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), in;

	if (fd < 0)
		return -1;
	in = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	live->tty_out = fdopen(fd, "w");
	live->tty_in = in >= 0 ? fdopen(in, "r") : NULL;
	if (!live->tty_out || !live->tty_in) {
		if (!live->tty_out)
			close(fd);
		if (in >= 0 && !live->tty_in)
			close(in);
		return -1;
	}
	return 0;
}

struct mo_live *live__new(const char *log)
{
	struct mo_live *live;
	const char *ctype;

	live = calloc(1, sizeof(*live));
	if (!live)
		return NULL;
	live->log_fd = -1;
	if (open_tty(live) || !isatty(fileno(live->tty_out))) {
		live__free(live);
		errno = ENOTTY;
		return NULL;
	}
	if (log) {
		live->log = strdup(log);
		live->log_fd = open(log, O_RDONLY | O_CLOEXEC);
	}
	/* Multibyte comms and phase names need the user's character set;
	 * LC_CTYPE only, so that numbers elsewhere keep their '.' decimal point. */
	ctype = setlocale(LC_CTYPE, NULL);
	live->saved_ctype = strdup(ctype ? ctype : "C");
	setlocale(LC_CTYPE, "");
	/* newterm, not initscr: initscr exits the process when $TERM is unusable. */
	live->screen = newterm(NULL, live->tty_out, live->tty_in);
	if (!live->saved_ctype || !live->screen || (log && (!live->log || live->log_fd < 0))) {
		int err = live->saved_ctype && live->screen ? errno : live->saved_ctype ? ENOTTY : ENOMEM;

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

int live__fd(const struct mo_live *live)
{
	return fileno(live->tty_in);
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

/* Rows of the pane under the processes, its title included: a third of
 * what is below the header, at least 4, leaving 2 for processes; 0 without
 * a log. */
static int pane_rows(const struct mo_live *live)
{
	int room = LINES - HEADER_ROWS, rows = room / 3 > 4 ? room / 3 : 4;

	if (!live->log || room < 4)
		return 0;
	return room - rows >= 2 ? rows : room - 2;
}

/* The log's last lines, under a title that says where all of it is. */
static void draw_pane(const struct mo_live *live, int top, int rows)
{
	static char buf[LOG_TAIL_BYTES], lines[4 * LOG_TAIL_BYTES];
	char title[1024];
	struct stat st;
	off_t off = 0;
	ssize_t n = -1;
	char *line = lines;

	snprintf(title, sizeof(title), " output of the command (all of it in %s) ", live->log);
	attron(A_REVERSE);
	mvaddnstr(top, 0, title, COLS);
	attroff(A_REVERSE);
	if (!fstat(live->log_fd, &st)) {
		off = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
		n = pread(live->log_fd, buf, sizeof(buf), off);
	}
	live_view_log_tail(buf, n > 0 ? (size_t)n : 0, off == 0, rows - 1, lines, sizeof(lines));
	for (int i = 1; i < rows && *line; i++) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = 0;
		mvaddnstr(top + i, 0, line, COLS);
		line = nl ? nl + 1 : line + strlen(line);
	}
}

int live__draw(struct mo_live *live, const struct mo_live_view *view)
{
	int pane = pane_rows(live);
	size_t fit = LINES > HEADER_ROWS + pane ? (size_t)(LINES - HEADER_ROWS - pane) : 0, n;
	char line[512];

	if (GROW(live->order, fit, live->cap))
		return -ENOMEM;
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
	if (pane)
		draw_pane(live, LINES - pane, pane);
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
	if (live->tty_in)
		fclose(live->tty_in);
	if (live->tty_out)
		fclose(live->tty_out);
	if (live->log_fd >= 0)
		close(live->log_fd);
	free(live->log);
	free(live->saved_ctype);
	free(live->order);
	free(live);
}
