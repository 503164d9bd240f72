/* safe_dir.h - open a directory that bpfprof, running as root, writes in
 * (the spool, the agent's --output-dir), creating it and its missing
 * parents, without being steered by links another user planted.
 *
 * The path (made absolute with the working directory) is walked from "/"
 * one component at a time with openat(O_NOFOLLOW). A link before the last
 * component is followed as the operator named it, but resolved here, a
 * component at a time too (at most 40 links), so every directory a name is
 * looked up in is seen: each such ancestor, existing or created, must be
 * owned by root or the effective uid and not writable by group or others
 * unless it has the sticky bit (as OpenSSH's StrictModes; /tmp passes),
 * else whoever may rename what is in it could swap in a directory of their
 * own. A component created here (mkdirat, then exactly mode, whatever the
 * umask) is opened O_NOFOLLOW, so a link put in its place between the
 * mkdir and the open is refused, not followed. The last component is
 * always opened O_DIRECTORY | O_NOFOLLOW and must be owned by the
 * effective uid and not writable by group or others: whoever else can
 * write in it can plant links, FIFOs or files under the names bpfprof
 * creates, reads and deletes there. An existing directory is never
 * chmodded. Everything made inside is then made relative to the returned
 * fd, with O_NOFOLLOW.
 *
 * On failure both log one line naming what is wrong and the fix (what
 * says what the directory is for: "spool", "output directory") and return
 * a negative errno: -ELOOP for a link, -EPERM for its owner or mode (or
 * an ancestor's), -ENOTDIR, or what mkdir/open said.
 */
#ifndef BPFPROF_SAFE_DIR_H
#define BPFPROF_SAFE_DIR_H

int safe_dir_open(const char *path, unsigned mode, const char *what, int *fd);

/* The same for the directory name inside parent, a directory opened by
 * safe_dir_open; path is parent/name, for the messages. */
int safe_dir_openat(int parent, const char *name, const char *path, unsigned mode,
		    const char *what, int *fd);

#endif
