// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "lib/grow.h"
#include "lib/pool.h"

struct pool_thread {
	struct mo_pool *pool;
	pthread_t thread;
	pthread_cond_t wake;	/* a job was given, or the pool ends */
	void (*fn)(void *arg);	/* the job given (under the pool's lock) */
	void *arg;
	struct pool_thread *next_idle;
};

struct mo_pool {
	pthread_mutex_t lock;
	struct pool_thread **threads;
	size_t n, alloc;
	struct pool_thread *idle;	/* waiting for a job */
	bool stop;
};

static void *pool_thread_main(void *arg)
{
	struct pool_thread *t = arg;
	struct mo_pool *p = t->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!t->fn && !p->stop)
			pthread_cond_wait(&t->wake, &p->lock);
		if (!t->fn)
			break;
		pthread_mutex_unlock(&p->lock);
		t->fn(t->arg);
		pthread_mutex_lock(&p->lock);
		t->fn = NULL;
		t->next_idle = p->idle;
		p->idle = t;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct mo_pool *pool__new(void)
{
	struct mo_pool *p = calloc(1, sizeof(*p));

	if (p)
		pthread_mutex_init(&p->lock, NULL);
	return p;
}

/* A new thread for the job (under the pool's lock). */
static int start_thread(struct mo_pool *p, void (*fn)(void *arg), void *arg)
{
	struct pool_thread *t = calloc(1, sizeof(*t));
	int err;

	if (!t || GROW(p->threads, p->n + 1, p->alloc)) {
		free(t);
		return -ENOMEM;
	}
	*t = (struct pool_thread){ .pool = p, .fn = fn, .arg = arg };
	pthread_cond_init(&t->wake, NULL);
	err = pthread_create(&t->thread, NULL, pool_thread_main, t);
	if (err) {
		pthread_cond_destroy(&t->wake);
		free(t);
		return -err;
	}
	p->threads[p->n++] = t;
	return 0;
}

int pool__run(struct mo_pool *p, void (*fn)(void *arg), void *arg)
{
	struct pool_thread *t;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	t = p->idle;
	if (p->stop) {
		ret = -EINVAL;
	} else if (t) {
		p->idle = t->next_idle;
		t->fn = fn;
		t->arg = arg;
		pthread_cond_signal(&t->wake);
	} else {
		ret = start_thread(p, fn, arg);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

unsigned pool__threads(struct mo_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->n;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned pool__idle(struct mo_pool *p)
{
	unsigned n = 0;

	pthread_mutex_lock(&p->lock);
	for (struct pool_thread *t = p->idle; t; t = t->next_idle)
		n++;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool__free(struct mo_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	for (size_t i = 0; i < p->n; i++)
		pthread_cond_signal(&p->threads[i]->wake);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n; i++) {
		pthread_join(p->threads[i]->thread, NULL);
		pthread_cond_destroy(&p->threads[i]->wake);
		free(p->threads[i]);
	}
	free(p->threads);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
