// SPDX-License-Identifier: GPL-2.0
/* khctl: drives kh_reflect, in-band endpoint reflection on WireGuard ports. */
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <linux/kh_reflect.h>

#include "cmd.h"
#include "util.h"

#ifndef KH_VERSION
#define KH_VERSION "0.1.0"
#endif

static const struct cmd *const cmds[] = {
	&cmd_status,
	&cmd_reflect,
	&cmd_probe,
	&cmd_reflections,
	&cmd_key,
	&cmd_config,
	&cmd_peers,
	&cmd_netcheck,
	&cmd_monitor,
};

void cmd_usage(const struct cmd *cmd, FILE *f)
{
	fprintf(f, "usage: khctl %s%s%s\n", cmd->name, *cmd->args ? " " : "",
		cmd->args);
}

void cmd_help(const struct cmd *cmd)
{
	size_t i;

	cmd_usage(cmd, stdout);
	printf("\n%s.\n", cmd->summary);
	if (cmd->help)
		printf("\n%s", cmd->help);
	if (!cmd->n_subs)
		return;
	putchar('\n');
	for (i = 0; i < cmd->n_subs; i++)
		printf("  khctl %s%s%s\n      %s.\n", cmd->subs[i]->name,
		       *cmd->subs[i]->args ? " " : "", cmd->subs[i]->args,
		       cmd->subs[i]->summary);
	printf("\n'khctl help %s SUBCOMMAND' tells more.\n", cmd->name);
}

/* "list" finds "peers list". */
const struct cmd *cmd_find_sub(const struct cmd *cmd, const char *name)
{
	size_t len = strlen(cmd->name), i;

	for (i = 0; i < cmd->n_subs; i++) {
		const char *sub = cmd->subs[i]->name;

		if (!strncmp(sub, cmd->name, len) && sub[len] == ' ' &&
		    !strcmp(sub + len + 1, name))
			return cmd->subs[i];
	}
	return NULL;
}

int cmd_usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("khctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_usage(cmd, stderr);
	return EXIT_USAGE;
}

/* For getopt_long() with a leading ':' in its option string. */
int cmd_bad_option(const struct cmd *cmd, int ch, char **argv)
{
	if (ch == ':')
		return cmd_usage_error(cmd, "option '%s' needs a value",
				       argv[optind - 1]);
	if (optopt)
		return cmd_usage_error(cmd, "unknown option '-%c'", optopt);
	return cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/*
 * -j and -h, all most commands take.  Returns -1 to go on with the
 * arguments from optind, else the exit code.
 */
int cmd_parse_json_only(const struct cmd *cmd, int argc, char **argv,
			bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			*json = true;
			break;
		case 'h':
			cmd_help(cmd);
			return 0;
		default:
			return cmd_bad_option(cmd, ch, argv);
		}
	}
	return -1;
}

static void print_usage(FILE *f)
{
	size_t i;

	fputs("usage: khctl COMMAND [ARGS]\n"
	      "       khctl help [COMMAND [SUBCOMMAND]]\n"
	      "       khctl --version\n"
	      "\n"
	      "commands:\n", f);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs("\n"
	      "Every command needs CAP_NET_ADMIN and acts on the current network\n"
	      "namespace; -j prints JSON.  'khctl help COMMAND' tells more.\n",
	      f);
}

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

static int help_cmd(int argc, char **argv)
{
	const struct cmd *cmd;

	/* "khctl help" and "khctl help help": the overview */
	if (argc < 3 || (argc == 3 && !strcmp(argv[2], "help"))) {
		print_usage(stdout);
		return 0;
	}
	cmd = argc <= 4 ? find_cmd(argv[2]) : NULL;
	if (cmd && argc == 4) {
		const struct cmd *sub = cmd_find_sub(cmd, argv[3]);

		if (!sub) {
			kh_err("'%s' has no subcommand '%s'", argv[2], argv[3]);
			return EXIT_USAGE;
		}
		cmd = sub;
	}
	if (!cmd) {
		if (argc > 4)
			kh_err("help takes one command");
		else
			kh_err("unknown command '%s'", argv[2]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	cmd_help(cmd);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("khctl %s (kh_reflect netlink version %d)\n",
		       KH_VERSION, KH_GENL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h"))
		return help_cmd(argc, argv);

	cmd = find_cmd(argv[1]);
	if (!cmd) {
		kh_err("unknown command '%s'", argv[1]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(cmd, argc - 1, argv + 1);
}
