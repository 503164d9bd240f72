/* signals.h - SIGINT and SIGTERM ask the running command to stop.
 *
 * The handlers only count; the command's loop reads the count between
 * polls (installed without SA_RESTART, so a signal also cuts a wait short).
 */
#ifndef BPFPROF_SIGNALS_H
#define BPFPROF_SIGNALS_H

#include <pthread.h>

void signals_install(void);

/* How many SIGINT/SIGTERM arrived so far, and the last one's number. */
int signals_received(void);
int signals_last(void);

/* pthread_create for a helper thread that takes no signal at all, so that
 * SIGINT/SIGTERM always reach the loop whose waits they must cut short.
 * 0 or -errno. */
int signals_blocked_thread(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
