/* recording.c - see recording.h. */
#include "recording.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "command.h"
#include "log.h"
#include "atomic_file.h"
#include "preflight.h"
#include "profile_build.h"
#include "sampler.h"
#include "signals.h"

static void show_progress(struct sampler *s, double elapsed)
{
	uint64_t stats[STAT_MAX];

	if (sampler_read_stats(s, stats))
		return;
	fprintf(stderr, "\rbpfprof: recording %.0f s, %llu samples ", elapsed,
		(unsigned long long)stats[STAT_SAMPLES]);
}

/* Samples until the duration, the command's exit or a signal. Sets
 * *wstatus when the command exited. */
static void run_session(struct sampler *s, struct collector *col,
			const struct recording_args *a, const struct command *cmd,
			int *wstatus, bool *command_exited)
{
	bool progress = log_progress_wanted();
	int forwarded = 0, shown_s = -1;
	int64_t t0 = monotonic_ns();

	for (;;) {
		double elapsed;

		sampler_poll(s, SAMPLER_POLL_MS, collector_handlers(col));
		elapsed = (monotonic_ns() - t0) / 1e9;
		if (cmd && waitpid(cmd->pid, wstatus, WNOHANG) == cmd->pid) {
			*command_exited = true;
			break;
		}
		if (a->duration_s > 0 && elapsed >= a->duration_s)
			break;
		if (signals_received() && !cmd)
			break;
		if (signals_received() && cmd) {
			if (signals_received() > 1)
				break;
			if (!forwarded++)
				kill(cmd->pid, signals_last());
		}
		if (progress && (int)elapsed != shown_s) {
			shown_s = (int)elapsed;
			show_progress(s, elapsed);
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
}

/* Creates the temporary file of the output, or says why it cannot. */
static int open_output(const struct recording_args *a, struct atomic_file **out)
{
	int err = atomic_file_open(AT_FDCWD, a->output, a->sampling.file_mode,
				   ATOMIC_FILE_CHECK_TARGET, out);

	if (err)
		log_error("cannot write the profile to %s: %s", a->output,
			  err == -EINVAL ? "not a regular file ('-o -' writes to standard output)"
					 : strerror(-err));
	return err;
}

/* The command's executable, as the kernel names it once it has exec'ed:
 * the profile's main binary. */
struct command_exe {
	pid_t pid;
	char path[PATH_MAX];
};

/* collector_opts.on_new_process: the command is announced again after
 * each exec, so the last one is what it runs. */
static void note_command_exe(pid_t pid, void *ctx)
{
	static const char deleted[] = " (deleted)";
	struct command_exe *exe = ctx;
	char link[64];
	ssize_t n;

	if (pid != exe->pid)
		return;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe->path, sizeof(exe->path) - 1);
	exe->path[n > 0 ? n : 0] = '\0';
	/* as the symbolizer names mappings: /proc/PID/maps without the suffix */
	if (n > (ssize_t)strlen(deleted) && !strcmp(exe->path + n - strlen(deleted), deleted))
		exe->path[n - strlen(deleted)] = '\0';
}

/* Builds the profile and puts it in out (freed either way). */
static int write_profile(struct sampler *s, struct collector *col, struct atomic_file *out,
			 const struct recording_args *a, const struct command_exe *exe,
			 int64_t start_ns, int64_t end_ns)
{
	struct profile_build_opts opts = {
		.sz = sizeof(opts),
		.period_ns = 1000000000LL / a->sampling.freq_hz,
		.time_nanos = start_ns,
		.duration_nanos = end_ns - start_ns,
		.service = PROFILE_ALL_SERVICES,
		.sample_labels = PROFILE_LABELS_ALL,
	};
	struct interval_batch *batch;
	struct profile_totals totals;
	struct collector_stats cstats;
	uint64_t stats[STAT_MAX] = { 0 };
	uint8_t *gz = NULL;
	size_t len = 0;
	int err;

	err = collector_drain(col, s, 0, NULL, NULL, &batch);
	if (!err && exe->path[0])
		opts.main_mapping = interval_batch_find_mapping(batch, exe->path);
	if (!err && (err = profile_build(batch, &opts, &gz, &len, &totals)))
		log_error("build the profile: %s", strerror(-err));
	if (!err) {
		err = atomic_file_commit(out, gz, len);
		if (err)
			log_error("write %s: %s", strcmp(a->output, "-") ? a->output : "standard output",
				  strerror(-err));
	} else {
		atomic_file_discard(out);
	}
	if (err) {
		free(gz);
		return err;
	}
	sampler_read_stats(s, stats);
	collector_get_stats(col, &cstats);
	if (cstats.snapshots)
		log_info("%llu stacks unwound from snapshots (%.1f KiB and %.1f "
			"frames each, %.3f us per frame), %llu truncated, %llu stopped early",
			(unsigned long long)cstats.snapshots,
			cstats.snapshot_bytes / 1024.0 / cstats.snapshots,
			(double)cstats.frames / cstats.snapshots,
			cstats.frames ? cstats.unwind_ns / 1000.0 / cstats.frames : 0.0,
			(unsigned long long)cstats.truncated,
			(unsigned long long)cstats.unwind_stopped);
	if (stats[STAT_PY_SAMPLES] || stats[STAT_PY_NO_THREAD])
		log_info("%llu samples with Python frames (%.1f each, %.3f us per frame; %llu cut "
			 "at %d), %llu Python threads without a thread state, %llu walks cut by "
			 "a read, %llu code objects read (%llu failed, %llu replaced at their "
			 "address)",
			 (unsigned long long)stats[STAT_PY_SAMPLES],
			 stats[STAT_PY_SAMPLES] ? (double)cstats.python_frames / stats[STAT_PY_SAMPLES]
						: 0.0,
			 cstats.python_frames ? cstats.python_ns / 1000.0 / cstats.python_frames : 0.0,
			 (unsigned long long)stats[STAT_PY_TRUNCATED], BPFPROF_PY_MAX_FRAMES,
			 (unsigned long long)stats[STAT_PY_NO_THREAD],
			 (unsigned long long)stats[STAT_PY_READ_FAILED],
			 (unsigned long long)cstats.python.code_objects,
			 (unsigned long long)cstats.python.code_failed,
			 (unsigned long long)cstats.python.code_replaced);
	log_info("%llu samples, %llu processes, %llu dropped "
		 "(%llu kernel and %llu user stacks lost), wrote %s",
		(unsigned long long)totals.samples, (unsigned long long)totals.processes,
		(unsigned long long)(stats[STAT_COUNTS_FULL] + cstats.stacks_dropped +
				     /* auto takes those with frame pointers */
				     (a->sampling.unwind == UNWIND_DWARF ? stats[STAT_SNAPSHOT_LOST] : 0)),
		(unsigned long long)stats[STAT_KERNEL_STACK_LOST],
		(unsigned long long)stats[STAT_USER_STACK_LOST],
		strcmp(a->output, "-") ? a->output : "to standard output");
	if (a->on_written && a->on_written(gz, len, a->on_written_ctx))
		err = -EIO; /* logged by the callback */
	free(gz);
	return err;
}

int recording_run(const struct recording_args *a)
{
	static struct command_exe exe = { .pid = -1 };
	struct collector_opts col_opts = { .sz = sizeof(col_opts) };
	struct sampler_opts opts = { .sz = sizeof(opts) };
	struct command cmd = { .pid = -1, .gate_fd = -1 };
	struct collector *col = NULL;
	struct atomic_file *output = NULL;
	struct sampler *s = NULL;
	bool command_exited = false;
	int wstatus = 0, err, status = 1;
	int64_t start_ns, end_ns;

	if (preflight_check() || open_output(a, &output))
		return 1;
	sampling_args_apply(&a->sampling, &opts, &col_opts);
	col_opts.on_new_process = note_command_exe;
	col_opts.ctx = &exe;
	if (collector_new(&col_opts, &col)) {
		atomic_file_discard(output);
		return 1;
	}
	if (a->command) {
		err = command_spawn(a->command, &cmd);
		if (err)
			goto out;
		exe.pid = cmd.pid;
		opts.pids = &cmd.pid;
		opts.npids = 1;
		opts.follow_forks = true;
	} else if (a->npids) {
		opts.pids = a->pids;
		opts.npids = a->npids;
	}
	signals_install();
	err = sampler_open(&opts, &s);
	if (!err)
		collector_use_sampler(col, s);
	if (err) {
		if (a->command)
			command_abort(&cmd);
		goto out;
	}
	start_ns = realtime_ns();
	if (a->command && command_release(&cmd)) {
		command_abort(&cmd);
		goto out;
	}
	run_session(s, col, a, a->command ? &cmd : NULL, &wstatus, &command_exited);
	sampler_stop(s);
	end_ns = realtime_ns();
	sampler_poll(s, 0, collector_handlers(col)); /* what came at the very end */

	status = write_profile(s, col, output, a, &exe, start_ns, end_ns) ? 1 : 0;
	output = NULL;
	if (a->command) {
		if (!command_exited)
			waitpid(cmd.pid, &wstatus, 0);
		if (status == 0)
			status = command_exit_code(wstatus);
	}
out:
	atomic_file_discard(output);
	sampler_close(s);
	collector_free(col);
	return status;
}
