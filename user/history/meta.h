/* SPDX-License-Identifier: GPL-2.0 */
/* Run metadata: when, where (host, kernel, CPUs, cwd) and which code (git). */
#ifndef MO_META_H
#define MO_META_H

#include "lib/invoker.h"
#include "model/run.h"

struct mo_git_look;

/* Fill the metadata fields of run. cwd and git are memobs's (the command
 * runs there), git run as the invoking user; with target (-p: its pid,
 * else 0) they are the target's, git run as its user (none, with a warning
 * in run, when memobs cannot read its working directory). git runs in the
 * background: *git is its look (or NULL), to hand to meta_git_finish.
 * 0/-ENOMEM. */
int meta_fill(struct mo_run *run, const struct mo_invoker *inv, pid_t target, struct mo_git_look **git);

/* Wait for the look at git and put what it found in run->git (outside a
 * work tree, or without git, run->git.present stays false). NULL-safe. */
void meta_git_finish(struct mo_git_look *git, struct mo_run *run);

/* Parse `git rev-parse HEAD --abbrev-ref HEAD` output and the length of
 * `git status --porcelain` output into *git. Pure, for tests. */
void meta_parse_git(const char *rev_parse, size_t status_len, struct mo_git *git);

#endif
