/* atomic_file.h - the project's one way to put a whole file on disk so
 * that readers see the old file or the complete new one, and a commit that
 * returned 0 survives a crash: profiles (record's -o, the agent's output
 * directory) and spool entries.
 *
 * Why in profiler/export/: proto/ encodes a profile into bytes and knows
 * nothing of files (it is tested and fuzzed alone); export/ writes the
 * profiles, and upload/, whose spool needs the same writer, already
 * depends on export/.
 *
 * How: the temporary file ".NAME.XXXXXX" is made beside the target (same
 * directory, so the rename cannot cross a file system) with openat(O_CREAT
 * | O_EXCL | O_NOFOLLOW): whatever someone put under a name is never
 * opened, so no link is followed and no file truncated. Commit writes it,
 * fsyncs and closes it, renames it onto the target and fsyncs the
 * directory. That is all a file costs when its name is given in an open
 * directory (dir_fd, a name without '/'): open, write, fsync, close,
 * rename, directory fsync - plus fchmod only when the umask took bits of
 * the mode away. The directory is not reopened (the caller's dir_fd is
 * used and not closed), the random suffix comes from a generator seeded
 * once, and the umask is read once from /proc/self/status (bpfprof never
 * changes it). A path with a directory part, or a bare name with AT_FDCWD,
 * costs one open of its directory, kept until the end so the rename and
 * its fsync go where the file was made even if the path changes meanwhile.
 * Path "-" is standard output (written as is, nothing to rename).
 *
 * Functions return 0 or a negative errno and do not log: the caller says
 * what failed. On any failure the temporary file is removed.
 */
#ifndef BPFPROF_ATOMIC_FILE_H
#define BPFPROF_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct atomic_file;

enum {
	/* At open, refuse a path that names a directory (-EISDIR) or another
	 * file that is not a regular one (-EINVAL: a device or a FIFO, which
	 * the rename would replace): for a path a user typed, so that it fails
	 * before there is anything to write. One fstatat more. */
	ATOMIC_FILE_CHECK_TARGET = 1 << 0,
};

/* Creates the temporary file for path (relative to dir_fd, a directory fd
 * or AT_FDCWD) with exactly mode, whatever the umask. -ENOENT when the
 * directory is missing, -ENAMETOOLONG when the temporary name would not
 * fit, or what the system said. */
int atomic_file_open(int dir_fd, const char *path, unsigned mode, unsigned flags,
		     struct atomic_file **out);

/* Writes buf, then renames the file over path. Frees f. */
int atomic_file_commit(struct atomic_file *f, const void *buf, size_t len);

/* atomic_file_commit where files must not replace each other (the agent's
 * output directory, where two profiles may want one name): the file takes
 * the first of the names name(ctx, 0, ...), name(ctx, 1, ...), ... that no
 * file has, each claimed with renameat2(RENAME_NOREPLACE) (link + unlink
 * where the file system lacks it), so two writers never get one name and
 * none is checked before it is taken. name() writes a name of at most size
 * bytes in the directory of atomic_file_open's path (which named the
 * temporary file only) and returns 0, or a negative errno that ends the
 * search and is returned (-EEXIST after its last name). Frees f. -EINVAL
 * for standard output. */
typedef int (*atomic_file_name_fn)(void *ctx, unsigned i, char *out, size_t size);
int atomic_file_commit_noreplace(struct atomic_file *f, const void *buf, size_t len,
				 atomic_file_name_fn name, void *ctx);

/* Removes the temporary file and frees f (NULL: nothing). */
void atomic_file_discard(struct atomic_file *f);

/* atomic_file_open (no flags) and atomic_file_commit in one call. */
int atomic_file_write(int dir_fd, const char *path, unsigned mode, const void *buf, size_t len);

/* Whether name is shaped as the temporary file of some NAME (".NAME." and
 * six letters or digits), which a killed writer may have left; *target
 * and *target_len then give NAME within name. */
bool atomic_file_temp_of(const char *name, const char **target, size_t *target_len);

#endif
