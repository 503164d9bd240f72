/* process_services.c - see process_services.h.
 *
 * Each entry is allocated on its own and carries its uthash handle, keyed
 * by pid; forget_exited deletes what it drops.
 *
 * An exited process is forgotten one call late. The agent calls
 * forget_exited after writing an interval, while the sampler already fills
 * the next one's buffer: a process that exits between the buffer flip and
 * the call left samples there that are looked up only when that next
 * interval is written. Kept until then, they still find its service.
 */
#include "process_services.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "proc_status.h"
#include "service.h"

/* What the last forget_exited calls found. */
enum state {
	RUNNING,
	EXITED, /* found gone by the last call: kept one more interval */
};

struct entry {
	UT_hash_handle hh;
	pid_t pid;
	enum state state;
	uint64_t start_ticks; /* /proc/PID/stat field 22 */
	char service[SERVICE_NAME_MAX];
};

struct process_services {
	struct entry *entries;
	size_t max;
	uint64_t dropped;
};

static struct entry *find(const struct process_services *t, pid_t pid)
{
	struct entry *e;

	HASH_FIND_INT(t->entries, &pid, e);
	return e;
}

/* pid's start time in clock ticks since boot; -ENOENT when it is gone. */
static int start_ticks_of(pid_t pid, uint64_t *ticks)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return proc_read_start_time(AT_FDCWD, path, ticks);
}

int process_services_new(size_t max_entries, struct process_services **out)
{
	struct process_services *t;

	if (!out || !max_entries || max_entries >= UINT32_MAX - 1)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->max = max_entries;
	*out = t;
	return 0;
}

void process_services_free(struct process_services *t)
{
	if (!t)
		return;
	struct entry *e, *tmp;

	HASH_ITER(hh, t->entries, e, tmp) {
		HASH_DEL(t->entries, e);
		free(e);
	}
	free(t);
}

/* A new entry for pid in t; NULL when the cap or memory says no. */
static struct entry *add(struct process_services *t, pid_t pid)
{
	struct entry *e;

	if (HASH_COUNT(t->entries) >= t->max)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	HASH_ADD_INT(t->entries, pid, e);
	if (!e->hh.tbl) { /* out of memory inside uthash: not added */
		free(e);
		return NULL;
	}
	return e;
}

void process_services_take(struct process_services *t, pid_t pid)
{
	char service[SERVICE_NAME_MAX];
	struct entry *e;
	uint64_t ticks;

	/* The start time first: should pid be gone by the time its cgroup is
	 * read, the entry holds "" for the right process, never a later one's
	 * start time with this one's service. */
	if (start_ticks_of(pid, &ticks))
		return; /* gone: nothing to keep */
	if (service_of_pid(pid, service))
		service[0] = '\0';
	e = find(t, pid);
	if (!e)
		e = add(t, pid);
	if (!e) {
		t->dropped++;
		return;
	}
	e->state = RUNNING;
	e->start_ticks = ticks;
	memcpy(e->service, service, sizeof(service));
}

const char *process_services_get(const struct process_services *t, pid_t pid,
				 uint64_t start_time_ns)
{
	const struct entry *e = find(t, pid);

	return e && e->start_ticks == start_time_ns / proc_ns_per_tick() ? e->service : NULL;
}

size_t process_services_forget_exited(struct process_services *t)
{
	struct entry *e, *tmp;
	size_t forget = 0;

	HASH_ITER(hh, t->entries, e, tmp) {
		uint64_t ticks;

		if (e->state == EXITED) {
			/* gone for good: a pid's start time never returns */
			HASH_DEL(t->entries, e);
			free(e);
			forget++;
		} else if (start_ticks_of(e->pid, &ticks) || ticks != e->start_ticks) {
			e->state = EXITED;
		}
	}
	return forget;
}

uint64_t process_services_dropped(const struct process_services *t)
{
	return t->dropped;
}
