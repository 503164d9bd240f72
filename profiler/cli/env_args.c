/* env_args.c - see env_args.h. */
#include "env_args.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"

#define ENV_PREFIX "BPFPROF_"

/* The variable that sets option: "retain-mb" -> "BPFPROF_RETAIN_MB". */
static void env_name(const char *option, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, ENV_PREFIX);

	for (; *option && n + 1 < size; option++)
		out[n++] = *option == '-' ? '_' : (char)toupper((unsigned char)*option);
	out[n] = '\0';
}

/* 1: on, 0: off, -1: neither. */
static int flag_value(const char *v)
{
	static const char *const on[] = { "1", "true", "yes" }, *const off[] = { "0", "false", "no", "" };

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (!strcasecmp(v, on[i]))
			return 1;
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (!strcasecmp(v, off[i]))
			return 0;
	return -1;
}

/* Appends "--name" or "--name=value" to args[*n]. */
static int add_option(char **args, int *n, const char *name, const char *value)
{
	if (value ? asprintf(&args[*n], "--%s=%s", name, value) < 0
		  : asprintf(&args[*n], "--%s", name) < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int env_args_merge(const char *cmd, const struct option *longopts, int argc, char **argv,
		   int *out_argc, char ***out_argv)
{
	size_t nopts = 0;
	char **args;
	int n = 0, err = 0;

	while (longopts[nopts].name)
		nopts++;
	args = calloc(nopts + (size_t)argc + 1, sizeof(*args));
	if (!args)
		return -ENOMEM;
	args[n++] = strdup(argv[0]);
	for (size_t i = 0; i < nopts && !err && args[0]; i++) {
		const struct option *o = &longopts[i];
		char var[128];
		const char *v;

		env_name(o->name, var, sizeof(var));
		v = getenv(var);
		if (!v || !strcmp(o->name, "help"))
			continue;
		if (o->has_arg == no_argument) {
			int on = flag_value(v);

			if (on < 0) {
				usage_error(cmd, "invalid %s (1, true, yes, 0, false, no)", var);
				err = -EINVAL;
			} else if (on) {
				err = add_option(args, &n, o->name, NULL);
			}
		} else {
			err = add_option(args, &n, o->name, v);
		}
	}
	for (int i = 1; i < argc && !err && args[0]; i++)
		if (!(args[n++] = strdup(argv[i])))
			err = -ENOMEM;
	if (!args[0])
		err = -ENOMEM;
	if (err) {
		env_args_free(n, args);
		return err;
	}
	*out_argc = n;
	*out_argv = args;
	return 0;
}

void env_args_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}
