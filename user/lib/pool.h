/* SPDX-License-Identifier: GPL-2.0 */
/* Threads for calls that block: a job runs on an idle thread of the pool,
 * else on a new one, and its thread waits for the next job once it is
 * done. A sleeping thread woken runs sooner than a new one is first
 * scheduled (on a loaded host: 0.1 ms against 1-7 ms on average, up to
 * 97 ms), and a long run keeps a few threads, not one per job. */
#ifndef MO_POOL_H
#define MO_POOL_H

struct mo_pool;

/* An empty pool, or NULL with errno. */
struct mo_pool *pool__new(void);

/* Run fn(arg) on a thread of the pool. 0; -errno when no thread could
 * take it (fn not run). */
int pool__run(struct mo_pool *p, void (*fn)(void *arg), void *arg);

/* How many threads the pool has started, and how many of them wait for
 * a job. */
unsigned pool__threads(struct mo_pool *p);
unsigned pool__idle(struct mo_pool *p);

/* Wait for the jobs running, then end the threads and free the pool.
 * NULL is nothing. */
void pool__free(struct mo_pool *p);

#endif
