// SPDX-License-Identifier: GPL-2.0
/* --serve: ADDR:PORT parsing (loopback unless an address is given), and
 * one scrape over loopback answered without the caller ever waiting.
 * tests/integration/test_serve.py drives it from outside, with Prometheus. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "serve/serve.h"

static bool parses(const char *in, int family, const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256] = "", got[INET6_ADDRSTRLEN] = "";

	ASSERT_EQ(serve_parse_addr(in, &ss, &len, err, sizeof(err)), 0);
	ASSERT_EQ(ss.ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, got, sizeof(got));
		ASSERT_EQ(ntohs(a->sin_port), port);
		ASSERT_EQ(len, sizeof(*a));
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, got, sizeof(got));
		ASSERT_EQ(ntohs(a->sin6_port), port);
		ASSERT_EQ(len, sizeof(*a));
	}
	ASSERT_STR_EQ(got, ip);
	return true;
}

static bool refuses(const char *in, const char *why)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256] = "";

	ASSERT_EQ(serve_parse_addr(in, &ss, &len, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, why), "'%s': %s", in ? in : "(null)", err);
	return true;
}

static bool test_parse_addr(void)
{
	ASSERT_TRUE(parses("9464", AF_INET, "127.0.0.1", 9464), "bare port");
	ASSERT_TRUE(parses(":9464", AF_INET, "127.0.0.1", 9464), ":PORT");
	ASSERT_TRUE(parses("localhost:80", AF_INET, "127.0.0.1", 80), "localhost");
	ASSERT_TRUE(parses("0.0.0.0:65535", AF_INET, "0.0.0.0", 65535), "explicit any");
	ASSERT_TRUE(parses("10.1.2.3:0", AF_INET, "10.1.2.3", 0), "port 0");
	ASSERT_TRUE(parses("[::1]:9464", AF_INET6, "::1", 9464), "IPv6");
	ASSERT_TRUE(parses("[::]:1", AF_INET6, "::", 1), "IPv6 any");
	ASSERT_TRUE(refuses("", "not ADDR:PORT"), "empty");
	ASSERT_TRUE(refuses(NULL, "not ADDR:PORT"), "NULL");
	ASSERT_TRUE(refuses("127.0.0.1", "not ADDR:PORT"), "no port");
	ASSERT_TRUE(refuses(":65536", "0 to 65535"), "port too big");
	ASSERT_TRUE(refuses(":99999999999999999999", "0 to 65535"), "port overflow");
	ASSERT_TRUE(refuses(":-1", "0 to 65535"), "negative port");
	ASSERT_TRUE(refuses(":", "0 to 65535"), "empty port");
	ASSERT_TRUE(refuses("example.com:80", "not a numeric address"), "host name");
	ASSERT_TRUE(refuses("::1:80", "brackets"), "IPv6 without brackets");
	ASSERT_TRUE(refuses("[::1]80", "[IPv6]:PORT"), "no colon after ]");
	ASSERT_TRUE(refuses("[127.0.0.1]:80", "not a numeric address"), "IPv4 in brackets");
	return true;
}

static bool test_listen_errors(void)
{
	char err[256] = "";
	struct mo_serve *a = serve__new("127.0.0.1:0", err, sizeof(err)), *b;
	char again[64];

	ASSERT_TRUE(a, "%s", err);
	ASSERT_TRUE(serve__loopback(a), "127.0.0.1 is loopback");
	ASSERT_TRUE(!strncmp(serve__addr(a), "127.0.0.1:", 10) && strcmp(serve__addr(a), "127.0.0.1:0"),
		    "the kernel's port: %s", serve__addr(a));
	/* The same port twice: the second says why. */
	snprintf(again, sizeof(again), "%s", serve__addr(a));
	b = serve__new(again, err, sizeof(err));
	ASSERT_TRUE(!b && errno == EADDRINUSE, "%s", err);
	ASSERT_TRUE(strstr(err, "cannot listen on ") && strstr(err, "in use"), "%s", err);
	serve__free(a);
	b = serve__new("bad", err, sizeof(err));
	ASSERT_TRUE(!b && errno == EINVAL, "%s", err);
	serve__free(NULL);
	return true;
}

/* Send req to s, drive s until the server closes, return the response. */
static char *exchange(struct mo_serve *s, const struct mo_prom_snapshot *snap, const char *req)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[128], *resp = calloc(1, 1 << 20);
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (!resp || fd < 0 || serve_parse_addr(serve__addr(s), &ss, &len, err, sizeof(err)) ||
	    connect(fd, (struct sockaddr *)&ss, len) || write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto fail;
	for (int rounds = 0; rounds < 1000; rounds++) {
		struct pollfd p[2] = { { serve__fd(s), POLLIN }, { fd, POLLIN } };
		ssize_t n;

		poll(p, 2, 100);
		if (p[0].revents)
			serve__handle(s, snap);
		if (!p[1].revents)
			continue;
		n = read(fd, resp + got, (1 << 20) - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	return resp;
fail:
	if (fd >= 0)
		close(fd);
	free(resp);
	return NULL;
}

static bool test_one_scrape(void)
{
	struct mo_prom_proc procs[] = { { .pid = 7, .comm = "cc1", .rss = { [MO_MEM_ANON] = 4096 }, .heap_live = -1 } };
	struct mo_prom_snapshot snap = { .elapsed_s = 1, .heap_live = -1, .procs = procs, .nprocs = 1 };
	char err[256];
	struct mo_serve *s = serve__new(":0", err, sizeof(err));
	char *r;

	ASSERT_TRUE(s, "%s", err);
	r = exchange(s, &snap, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_TRUE(r, "exchange failed");
	ASSERT_TRUE(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17), "%s", r);
	ASSERT_TRUE(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "%s", r);
	ASSERT_TRUE(strstr(r, "\r\nConnection: close\r\n"), "%s", r);
	ASSERT_TRUE(strstr(r, "\nmemobs_process_rss_bytes{pid=\"7\",comm=\"cc1\",kind=\"anon\"} 4096\n"), "%s", r);
	/* Content-Length is the body's. */
	ASSERT_EQ(strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10), strlen(strstr(r, "\r\n\r\n") + 4));
	free(r);
	r = exchange(s, &snap, "GET /other HTTP/1.0\r\n\r\n");
	ASSERT_TRUE(r && !strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24), "%s", r ? r : "");
	free(r);
	ASSERT_EQ(serve__scrapes(s), 1);
	/* No snapshot to hand: 503, and the run goes on. */
	r = exchange(s, NULL, "GET /metrics HTTP/1.1\r\n\r\n");
	ASSERT_TRUE(r && !strncmp(r, "HTTP/1.1 503 ", 13), "%s", r ? r : "");
	free(r);
	serve__free(s);
	return true;
}

int main(void)
{
	RUN(test_parse_addr);
	RUN(test_listen_errors);
	RUN(test_one_scrape);
	return check_summary();
}
