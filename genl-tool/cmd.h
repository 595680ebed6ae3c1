/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands, and the usage helpers they share with main.c. */
#ifndef KHCTL_CMD_H
#define KHCTL_CMD_H

#include <stdbool.h>
#include <stdio.h>

#define EXIT_USAGE	2

struct cmd {
	const char *name;
	const char *args;	/* usage, after "khctl NAME" */
	const char *summary;	/* one line for "khctl help" */
	const char *help;	/* the rest of "khctl help NAME" */
	int (*run)(const struct cmd *cmd, int argc, char **argv);
	const struct cmd *const *subs;	/* "peers list" and the like */
	size_t n_subs;
};

extern const struct cmd cmd_status;
extern const struct cmd cmd_reflect;
extern const struct cmd cmd_probe;
extern const struct cmd cmd_reflections;
extern const struct cmd cmd_monitor;
extern const struct cmd cmd_key;
extern const struct cmd cmd_config;
extern const struct cmd cmd_peers;
extern const struct cmd cmd_peers_sync;
extern const struct cmd cmd_netcheck;

void cmd_usage(const struct cmd *cmd, FILE *f);
void cmd_help(const struct cmd *cmd);
int cmd_usage_error(const struct cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cmd_bad_option(const struct cmd *cmd, int ch, char **argv);
int cmd_parse_json_only(const struct cmd *cmd, int argc, char **argv,
			bool *json);
const struct cmd *cmd_find_sub(const struct cmd *cmd, const char *name);

#endif
