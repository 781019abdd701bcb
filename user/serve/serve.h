/* SPDX-License-Identifier: GPL-2.0 */
/* --serve ADDR:PORT: a minimal HTTP/1.1 listener that answers GET /metrics
 * with the Prometheus exposition (prom.h) of the snapshot the run loop
 * hands it. Single-threaded and non-blocking: serve__fd is one descriptor
 * to poll (an epoll set of the listener and its connections);
 * serve__handle does what is ready and returns, never waiting.
 *
 * One response per connection (Connection: close). GET and HEAD of
 * /metrics (any query string) get 200; another path 404; another method
 * 405; a malformed request 400; a request head over 8 KiB 431. At most 16
 * connections at once (a new one closes the oldest), each closed 10 s after
 * it was accepted whatever state it is in: a slow or stuck client costs a
 * slot, never the run loop. */
#ifndef MO_SERVE_H
#define MO_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "serve/prom.h"

struct mo_serve;

/* Parse ADDR:PORT: "PORT" and ":PORT" are 127.0.0.1 (loopback unless an
 * address is given), "localhost:PORT", "A.B.C.D:PORT", "[IPv6]:PORT";
 * no host names. Port 0 lets the kernel choose. 0, or -EINVAL with the
 * reason in err. */
int serve_parse_addr(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen);

/* Listen on addr_port. NULL+errno with the reason in err ("cannot listen
 * on 127.0.0.1:9464: Address already in use"). */
struct mo_serve *serve__new(const char *addr_port, char *err, size_t errlen);

/* The descriptor to poll for POLLIN; readable when serve__handle has work. */
int serve__fd(const struct mo_serve *s);

/* The address really listened on, "127.0.0.1:9464" or "[::1]:9464" (the
 * port the kernel chose for port 0). Owned by s. */
const char *serve__addr(const struct mo_serve *s);

/* Is that address a loopback one? (Else anyone who reaches the host sees
 * the process names: worth a warning.) */
bool serve__loopback(const struct mo_serve *s);

/* Accept, read, answer and close what is ready, without waiting; close
 * connections past their time. Requests complete now are answered with
 * snap (rendered at most once per call); snap also feeds the cgroup
 * peaks, so calling this every tick as well keeps them sampled. */
void serve__handle(struct mo_serve *s, const struct mo_prom_snapshot *snap);

/* Scrapes answered with 200 so far. */
unsigned long serve__scrapes(const struct mo_serve *s);

/* Close everything. NULL-safe. */
void serve__free(struct mo_serve *s);

#endif
