/* test_process_services.c - the table of processes' services: this process
 * and a child taken and found with their start times, not with another
 * one's; a pid never taken; an exited child kept one call more, then
 * forgotten while this process is kept; re-taking a pid replaces its
 * entry; the cap counts a drop; growing and forgetting past the first
 * array and index sizes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "proc_status.h"
#include "process_services.h"
#include "read_file.h"
#include "service.h"

static uint64_t ns_per_tick;

/* pid's start time in ns since boot, somewhere inside its clock tick as
 * start_boottime would be. */
static uint64_t start_ns(pid_t pid)
{
	char path[32], *buf;
	uint64_t ticks = 0;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!sym_read_file_at(AT_FDCWD, path, 4096, &buf, &len)) {
		proc_stat_start_time(buf, len, &ticks);
		free(buf);
	}
	CHECK(ticks > 0, "start time of %d", (int)pid);
	return ticks * ns_per_tick + ns_per_tick / 2;
}

/* A child that waits until it is killed. */
static pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK(pid > 0, "fork: %s", strerror(errno));
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* What service_of_pid says of pid, "" for none. */
static const char *expected(pid_t pid, char *out)
{
	if (service_of_pid(pid, out))
		out[0] = '\0';
	return out;
}

static void test_take_get_forget(void)
{
	struct process_services *t;
	pid_t self = getpid(), child = spawn();
	uint64_t self_ns = start_ns(self), child_ns = start_ns(child);
	char want[SERVICE_NAME_MAX];
	const char *s;

	CHECK(!process_services_new(16, &t), "new");
	CHECK(!process_services_get(t, self, self_ns), "nothing taken yet");
	process_services_take(t, self);
	process_services_take(t, child);
	s = process_services_get(t, self, self_ns);
	CHECK(s && !strcmp(s, expected(self, want)), "self: '%s', want '%s'", s ? s : "(null)",
	      want);
	s = process_services_get(t, child, child_ns);
	CHECK(s && !strcmp(s, expected(child, want)), "child: '%s', want '%s'",
	      s ? s : "(null)", want);
	/* the same tick is the same process, another tick another one */
	CHECK(process_services_get(t, self, self_ns - ns_per_tick / 2), "start of the tick");
	CHECK(!process_services_get(t, self, self_ns + ns_per_tick), "a later process");
	CHECK(!process_services_get(t, self, self_ns - ns_per_tick), "an earlier process");
	CHECK(!process_services_get(t, self, 0), "no start time");

	CHECK(process_services_forget_exited(t) == 0, "both alive");
	CHECK(process_services_get(t, child, child_ns), "child kept while alive");
	reap(child);
	/* kept one interval more, for its samples in the next one's buffer */
	CHECK(process_services_forget_exited(t) == 0, "the exited child kept once more");
	CHECK(process_services_get(t, child, child_ns), "child found after its exit");
	CHECK(process_services_forget_exited(t) == 1, "the exited child forgotten");
	CHECK(!process_services_get(t, child, child_ns), "child gone");
	CHECK(process_services_get(t, self, self_ns), "self kept");
	CHECK(process_services_forget_exited(t) == 0, "nothing more to forget");
	/* a gone pid is not taken */
	process_services_take(t, child);
	CHECK(!process_services_get(t, child, child_ns), "a gone pid is not taken");
	CHECK(process_services_dropped(t) == 0, "no drop");
	process_services_free(t);
}

static void test_cap(void)
{
	struct process_services *t;
	pid_t self = getpid(), a = spawn(), b = spawn();
	uint64_t a_ns = start_ns(a), b_ns = start_ns(b);

	CHECK(!process_services_new(2, &t), "new");
	process_services_take(t, self);
	process_services_take(t, a);
	process_services_take(t, self); /* an exec: replaced, not added */
	CHECK(process_services_dropped(t) == 0, "re-taking is no drop");
	process_services_take(t, b);
	CHECK(process_services_dropped(t) == 1, "full: %llu dropped",
	      (unsigned long long)process_services_dropped(t));
	CHECK(process_services_get(t, a, a_ns), "a kept");
	CHECK(!process_services_get(t, b, b_ns), "b not kept");
	/* a's exit makes room for b */
	reap(a);
	CHECK(process_services_forget_exited(t) == 0, "a kept once more");
	CHECK(process_services_forget_exited(t) == 1, "a forgotten");
	process_services_take(t, b);
	CHECK(process_services_get(t, b, b_ns), "b kept in a's room");
	CHECK(process_services_get(t, self, start_ns(self)), "self still kept");
	CHECK(process_services_dropped(t) == 1, "no new drop");
	reap(b);
	process_services_free(t);
	CHECK(process_services_new(0, &t) == -EINVAL, "a cap of 0");
}

/* More processes than the first array and index sizes: growing keeps every
 * entry findable, and forgetting rebuilds the index of the rest. */
static void test_many(void)
{
	enum { N = 150 };
	struct process_services *t;
	pid_t kids[N];
	uint64_t ns[N];
	int found = 0;

	CHECK(!process_services_new(1000, &t), "new");
	for (int i = 0; i < N; i++) {
		kids[i] = spawn();
		ns[i] = start_ns(kids[i]);
		process_services_take(t, kids[i]);
	}
	for (int i = 0; i < N; i += 2)
		reap(kids[i]);
	CHECK(process_services_forget_exited(t) == 0, "none forgotten yet");
	CHECK(process_services_forget_exited(t) == N / 2, "half forgotten");
	for (int i = 0; i < N; i++)
		found += process_services_get(t, kids[i], ns[i]) != NULL;
	for (int i = 1; i < N; i += 2) {
		CHECK(process_services_get(t, kids[i], ns[i]), "child %d kept", i);
		reap(kids[i]);
	}
	CHECK(found == N / 2, "%d found", found);
	process_services_forget_exited(t);
	CHECK(process_services_forget_exited(t) == N / 2, "the rest forgotten");
	process_services_free(t);
}

int main(void)
{
	ns_per_tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	test_take_get_forget();
	test_cap();
	test_many();
	return check_summary();
}
