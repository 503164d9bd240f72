/* command.c - see command.h. */
#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

int command_spawn(char *const argv[], struct command *cmd)
{
	int gate[2];
	pid_t pid;
	char go;

	if (pipe2(gate, O_CLOEXEC)) {
		log_error("pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		log_error("fork: %s", strerror(errno));
		close(gate[0]);
		close(gate[1]);
		return err;
	}
	if (pid == 0) {
		close(gate[1]);
		if (read(gate[0], &go, 1) != 1) /* gate closed: profiling failed */
			_exit(127);
		close(gate[0]);
		execvp(argv[0], argv);
		log_error("cannot run %s: %s", argv[0], strerror(errno)); /* keeps errno */
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(gate[0]);
	cmd->pid = pid;
	cmd->gate_fd = gate[1];
	return 0;
}

int command_release(struct command *cmd)
{
	char go = 1;
	int err = 0;

	if (write(cmd->gate_fd, &go, 1) != 1) {
		err = -errno;
		log_error("start command: %s", strerror(errno));
	}
	close(cmd->gate_fd);
	cmd->gate_fd = -1;
	return err;
}

void command_abort(struct command *cmd)
{
	if (cmd->gate_fd >= 0)
		close(cmd->gate_fd);
	cmd->gate_fd = -1;
	waitpid(cmd->pid, NULL, 0);
}

int command_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}
