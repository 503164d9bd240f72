/* signals.c - see signals.h. */
#include "signals.h"

#include <signal.h>
#include <stddef.h>

static volatile sig_atomic_t received;
static volatile sig_atomic_t last;

static void on_signal(int sig)
{
	received++;
	last = sig;
}

void signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int signals_received(void)
{
	return received;
}

int signals_last(void)
{
	return last;
}

int signals_blocked_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits it */
	err = -pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}
