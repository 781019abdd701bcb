// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "serve/serve.h"

#define SERVE_MAX_CONNS 16
#define SERVE_MAX_REQUEST 8192		/* request line and headers */
#define SERVE_CONN_NS (10ull * 1000000000ull)	/* a connection's whole life */
#define SERVE_ACCEPTS 32		/* per call, so that a flood cannot hold the loop */
#define SERVE_LISTENER UINT32_MAX	/* epoll data of the listener; else a slot */

struct conn {
	int fd;				/* -1: free slot */
	uint64_t accepted_ns, deadline_ns;
	size_t reqlen;
	char *resp;			/* NULL while the request is read */
	size_t resplen, sent;
	char req[SERVE_MAX_REQUEST];
};

struct mo_serve {
	int lfd, ep;
	bool listening;			/* the listener is in the epoll set */
	bool loopback;
	char addr[INET6_ADDRSTRLEN + 16];
	struct mo_prom_peaks *peaks;
	unsigned long scrapes;
	struct conn conns[SERVE_MAX_CONNS];
	/* One serve__handle call: its snapshot, rendered at most once. */
	const struct mo_prom_snapshot *snap;
	char *body;
	size_t bodylen;
	bool rendered;
	int render_err;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int serve_parse_addr(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char buf[128], *host, *port;
	unsigned long p;
	bool v6 = false;

	memset(ss, 0, sizeof(*ss));
	if (!addr_port || !*addr_port || strlen(addr_port) >= sizeof(buf)) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT", addr_port ? addr_port : "");
		return -EINVAL;
	}
	strcpy(buf, addr_port);
	if (all_digits(buf)) {
		host = NULL;
		port = buf;
	} else if (buf[0] == '[') {
		host = buf + 1;
		port = strstr(host, "]:");
		if (!port) {
			snprintf(err, errlen, "'%s' is not [IPv6]:PORT", addr_port);
			return -EINVAL;
		}
		*port = 0;
		port += 2;
		v6 = true;
	} else {
		port = strrchr(buf, ':');
		if (!port) {
			snprintf(err, errlen, "'%s' is not ADDR:PORT (or :PORT for 127.0.0.1)", addr_port);
			return -EINVAL;
		}
		*port++ = 0;
		host = buf;
		if (strchr(host, ':')) {
			snprintf(err, errlen, "'%s': an IPv6 address goes in brackets, [::1]:PORT", addr_port);
			return -EINVAL;
		}
	}
	p = all_digits(port) && strlen(port) <= 5 ? strtoul(port, NULL, 10) : 65536;
	if (p > 65535) {
		snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", addr_port);
		return -EINVAL;
	}
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
			return 0;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		*len = sizeof(*in4);
		if (!host || !*host || !strcmp(host, "localhost"))
			host = "127.0.0.1";
		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1)
			return 0;
	}
	snprintf(err, errlen, "'%s': '%s' is not a numeric address (127.0.0.1, [::1], 0.0.0.0, localhost)",
		 addr_port, host);
	return -EINVAL;
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len, bool *loopback)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
	} else {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in4->sin_port));
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	}
}

static int epoll_set(int ep, int op, int fd, uint32_t events, uint32_t data)
{
	struct epoll_event ev = { .events = events, .data.u32 = data };

	return epoll_ctl(ep, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev) ? -errno : 0;
}

static int open_listener(struct mo_serve *s, const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;

	s->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->lfd, (const struct sockaddr *)ss, len) || listen(s->lfd, SERVE_MAX_CONNS))
		return -errno;
	return 0;
}

struct mo_serve *serve__new(const char *addr_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss, bound;
	socklen_t len, blen = sizeof(bound);
	struct mo_serve *s;
	int ret;

	ret = serve_parse_addr(addr_port, &ss, &len, err, errlen);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ep = -1;
	for (int i = 0; i < SERVE_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	ret = open_listener(s, &ss, len);
	if (!ret && getsockname(s->lfd, (struct sockaddr *)&bound, &blen))
		ret = -errno;
	if (ret) {
		format_addr(&ss, s->addr, sizeof(s->addr), &s->loopback);
		snprintf(err, errlen, "cannot listen on %s: %s", s->addr, strerror(-ret));
		goto out_free;
	}
	format_addr(&bound, s->addr, sizeof(s->addr), &s->loopback);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	ret = s->ep < 0 ? -errno : epoll_set(s->ep, EPOLL_CTL_ADD, s->lfd, EPOLLIN, SERVE_LISTENER);
	s->listening = !ret;
	s->peaks = prom_peaks__new(4 * MO_PROM_MAX_CGROUPS);
	if (!ret && !s->peaks)
		ret = -ENOMEM;
	if (ret) {
		snprintf(err, errlen, "cannot serve on %s: %s", s->addr, strerror(-ret));
		goto out_free;
	}
	return s;
out_free:
	serve__free(s);
	errno = -ret;
	return NULL;
}

int serve__fd(const struct mo_serve *s)
{
	return s->ep;
}

const char *serve__addr(const struct mo_serve *s)
{
	return s->addr;
}

bool serve__loopback(const struct mo_serve *s)
{
	return s->loopback;
}

unsigned long serve__scrapes(const struct mo_serve *s)
{
	return s->scrapes;
}

static void conn_close(struct mo_serve *s, struct conn *c)
{
	char drain[4096];

	if (c->fd < 0)
		return;
	/* Unread bytes at close() would reset the connection, and the client
	 * could lose the response still in flight: read them first (a bounded
	 * amount: a client that keeps sending gets its reset). */
	if (c->resp && c->sent == c->resplen) {
		shutdown(c->fd, SHUT_WR);
		for (int i = 0; i < 16 && recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
			;
	}
	epoll_set(s->ep, EPOLL_CTL_DEL, c->fd, 0, 0);
	close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* The exposition of this call's snapshot, rendered once. 0/-errno. */
static int render(struct mo_serve *s)
{
	FILE *f;

	if (s->rendered)
		return s->render_err;
	s->rendered = true;
	if (!s->snap)
		return s->render_err = -EAGAIN;
	f = open_memstream(&s->body, &s->bodylen);
	if (!f)
		return s->render_err = -errno;
	s->render_err = prom_write(f, s->snap, NULL, s->peaks);
	if (fclose(f) && !s->render_err)
		s->render_err = -EIO;
	return s->render_err;
}

/* Status and body for the request in c->req (its head is complete). */
static int route(struct mo_serve *s, struct conn *c, bool *head, const char **body, size_t *bodylen)
{
	char *line = c->req, *method, *target, *version, *save = NULL, *q;
	int ret;

	line[strcspn(line, "\r\n")] = 0;
	method = strtok_r(line, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	*head = method && !strcmp(method, "HEAD");
	*body = NULL;
	if (!method || !target || !version || strtok_r(NULL, " ", &save) || strncmp(version, "HTTP/1.", 7))
		return 400;
	if (strcmp(method, "GET") && !*head)
		return 405;
	q = strchr(target, '?');
	if (q)
		*q = 0;
	if (strcmp(target, "/metrics"))
		return 404;
	ret = render(s);
	if (ret)
		return ret == -EAGAIN ? 503 : 500;
	*body = s->body;
	*bodylen = s->bodylen;
	return 200;
}

/* Build the whole response of c into c->resp. 0 or -ENOMEM. */
static int respond(struct mo_serve *s, struct conn *c, bool too_large)
{
	const char *body = NULL;
	char head[256], errbody[128];
	size_t bodylen = 0;
	bool is_head = false;
	int status = too_large ? 431 : route(s, c, &is_head, &body, &bodylen), n;

	if (status != 200) {
		snprintf(errbody, sizeof(errbody), "%d %s: memobs serves GET /metrics\n", status, reason(status));
		body = errbody;
		bodylen = strlen(errbody);
	}
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
		     status, reason(status), status == 200 ? MO_PROM_CONTENT_TYPE : "text/plain; charset=utf-8",
		     bodylen, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (is_head)
		bodylen = 0;
	c->resp = malloc(n + bodylen);
	if (!c->resp)
		return -ENOMEM;
	memcpy(c->resp, head, n);
	memcpy(c->resp + n, body, bodylen);
	c->resplen = n + bodylen;
	c->sent = 0;
	s->scrapes += status == 200;
	return 0;
}

static void conn_write(struct mo_serve *s, struct conn *c)
{
	while (c->sent < c->resplen) {
		ssize_t n = send(c->fd, c->resp + c->sent, c->resplen - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EPOLLOUT brings us back */
		if (n <= 0)
			break;
		c->sent += n;
	}
	conn_close(s, c);
}

static bool head_complete(const struct conn *c)
{
	return memmem(c->req, c->reqlen, "\r\n\r\n", 4) || memmem(c->req, c->reqlen, "\n\n", 2);
}

static void conn_read(struct mo_serve *s, struct conn *c)
{
	bool too_large = false;

	for (;;) {
		ssize_t n = recv(c->fd, c->req + c->reqlen, sizeof(c->req) - 1 - c->reqlen, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* more to come */
		if (n <= 0) {
			conn_close(s, c);	/* gone before a whole request: nobody to answer */
			return;
		}
		c->reqlen += n;
		c->req[c->reqlen] = 0;
		if (head_complete(c))
			break;
		if (c->reqlen == sizeof(c->req) - 1) {
			too_large = true;
			break;
		}
	}
	if (respond(s, c, too_large) ||
	    epoll_set(s->ep, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c - s->conns)) {
		conn_close(s, c);
		return;
	}
	conn_write(s, c);
}

/* A free slot, or the oldest connection's, closed. */
static struct conn *take_slot(struct mo_serve *s)
{
	struct conn *oldest = &s->conns[0];

	for (int i = 0; i < SERVE_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0)
			return &s->conns[i];
		if (s->conns[i].accepted_ns < oldest->accepted_ns)
			oldest = &s->conns[i];
	}
	conn_close(s, oldest);
	return oldest;
}

static void accept_some(struct mo_serve *s, uint64_t now)
{
	for (int i = 0; i < SERVE_ACCEPTS; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors: the pending connection would keep the
			 * listener readable, and the run loop spinning. Leave it
			 * out of the set until the next call. */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    !epoll_set(s->ep, EPOLL_CTL_DEL, s->lfd, 0, 0))
				s->listening = false;
			return;
		}
		c = take_slot(s);
		c->fd = fd;
		c->accepted_ns = now;
		c->deadline_ns = now + SERVE_CONN_NS;
		c->reqlen = 0;
		if (epoll_set(s->ep, EPOLL_CTL_ADD, fd, EPOLLIN, c - s->conns)) {
			close(fd);
			c->fd = -1;
			continue;
		}
		conn_read(s, c);	/* the request often came with the connection */
	}
}

void serve__handle(struct mo_serve *s, const struct mo_prom_snapshot *snap)
{
	struct epoll_event ev[SERVE_MAX_CONNS + 1];
	uint64_t now = now_ns();
	bool listener = false;
	int n;

	s->snap = snap;
	s->rendered = false;
	if (!s->listening && !epoll_set(s->ep, EPOLL_CTL_ADD, s->lfd, EPOLLIN, SERVE_LISTENER))
		s->listening = true;
	n = epoll_wait(s->ep, ev, SERVE_MAX_CONNS + 1, 0);
	/* Connections first: accepting may close the oldest and reuse its slot. */
	for (int i = 0; i < n; i++) {
		struct conn *c;

		if (ev[i].data.u32 == SERVE_LISTENER) {
			listener = true;
			continue;
		}
		c = &s->conns[ev[i].data.u32];
		if (c->fd < 0)
			continue;
		if (c->resp)
			conn_write(s, c);
		else
			conn_read(s, c);
	}
	for (int i = 0; i < SERVE_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0 && now >= s->conns[i].deadline_ns)
			conn_close(s, &s->conns[i]);
	if (listener)
		accept_some(s, now);
	/* A tick without a scrape still samples the cgroup peaks. */
	if (!s->rendered && snap)
		prom_peaks__update(s->peaks, snap);
	free(s->body);
	s->body = NULL;
	s->bodylen = 0;
	s->snap = NULL;
}

void serve__free(struct mo_serve *s)
{
	if (!s)
		return;
	for (int i = 0; i < SERVE_MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			close(s->conns[i].fd);
		free(s->conns[i].resp);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (s->lfd >= 0)
		close(s->lfd);
	prom_peaks__free(s->peaks);
	free(s);
}
