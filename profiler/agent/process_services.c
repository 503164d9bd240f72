/* process_services.c - see process_services.h.
 *
 * Entries live in one array that grows by doubling up to the cap; the
 * pp_htab maps FNV(pid) to an entry's index. pp_htab never removes, so
 * forget_exited compacts the array and builds a new index of the rest,
 * swapping it in only when it is complete: without memory for it nothing
 * is forgotten (the next interval tries again) and the old index is kept.
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

#include "htab.h"
#include "proc_status.h"
#include "service.h"

#define MIN_ENTRIES 64

/* What the last forget_exited calls found. */
enum state {
	RUNNING,
	EXITED, /* found gone by the last call: kept one more interval */
	FORGET, /* found gone by the one before: being dropped */
};

struct entry {
	pid_t pid;
	enum state state;
	uint64_t start_ticks; /* /proc/PID/stat field 22 */
	char service[SERVICE_NAME_MAX];
};

struct process_services {
	struct entry *entries;
	size_t len, cap, max;
	struct pp_htab index;
	uint64_t dropped;
};

static uint32_t pid_hash(pid_t pid)
{
	return pp_hash32(pp_fnv1a_u64(PP_FNV_INIT, (uint64_t)pid));
}

static bool entry_is(const void *ctx, uint32_t idx, const void *key)
{
	const struct process_services *t = ctx;

	return t->entries[idx].pid == *(const pid_t *)key;
}

static struct entry *find(const struct process_services *t, pid_t pid)
{
	int64_t i = pp_htab_find(&t->index, pid_hash(pid), entry_is, t, &pid);

	return i < 0 ? NULL : &t->entries[i];
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
	pp_htab_free(&t->index);
	free(t->entries);
	free(t);
}

/* Room for one more entry; false when the cap or memory says no. */
static bool make_room(struct process_services *t)
{
	size_t cap = t->cap ? t->cap * 2 : MIN_ENTRIES;
	struct entry *e;

	if (t->len < t->cap)
		return true;
	if (t->len == t->max)
		return false;
	if (cap > t->max)
		cap = t->max;
	e = realloc(t->entries, cap * sizeof(*e));
	if (!e)
		return false;
	t->entries = e;
	t->cap = cap;
	return true;
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
	if (!e) {
		if (!make_room(t) || pp_htab_insert(&t->index, pid_hash(pid), (uint32_t)t->len)) {
			t->dropped++;
			return;
		}
		e = &t->entries[t->len++];
	}
	*e = (struct entry){ .pid = pid, .start_ticks = ticks };
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
	struct pp_htab index = { 0 };
	size_t n = 0, forget = 0;

	for (size_t i = 0; i < t->len; i++) {
		struct entry *e = &t->entries[i];
		uint64_t ticks;

		if (e->state == EXITED)
			e->state = FORGET; /* gone for good: a pid's start time never returns */
		else if (start_ticks_of(e->pid, &ticks) || ticks != e->start_ticks)
			e->state = EXITED;
		forget += e->state == FORGET;
	}
	if (!forget)
		return 0;
	for (size_t i = 0; i < t->len; i++) {
		struct entry *e = &t->entries[i];

		if (e->state == FORGET)
			continue;
		if (pp_htab_insert(&index, pid_hash(e->pid), (uint32_t)n++)) {
			for (size_t j = 0; j < t->len; j++) /* no memory: forget them next time */
				if (t->entries[j].state == FORGET)
					t->entries[j].state = EXITED;
			pp_htab_free(&index);
			return 0;
		}
	}
	n = 0;
	for (size_t i = 0; i < t->len; i++)
		if (t->entries[i].state != FORGET)
			t->entries[n++] = t->entries[i];
	pp_htab_free(&t->index);
	t->index = index;
	t->len = n;
	return forget;
}

uint64_t process_services_dropped(const struct process_services *t)
{
	return t->dropped;
}
