/* SPDX-License-Identifier: GPL-2.0 */
/* libbpf's messages: kept (printed as they come with -v), and saved to a
 * file when a load fails and they say more than the error does. */
#ifndef MO_BPF_LOG_H
#define MO_BPF_LOG_H

#include <stddef.h>

/* From now on libbpf's messages are kept. */
void bpf_log_capture(void);

/* err = "what: strerror(-code)", and "; libbpf and verifier log in FILE"
 * when the log was saved to a fresh file in dir (NULL: not saved). */
void bpf_log_save(const char *dir, char *err, size_t errlen, const char *what, int code);

/* Forget what was kept (the load went well, or the session ended). */
void bpf_log_drop(void);

#endif
