// SPDX-License-Identifier: GPL-2.0
/* khctl config: the limits of the record table. */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "kh.h"
#include "util.h"

/* The ranges the module's policy enforces (KH_A_MAX_RECORDS, KH_A_RECORD_TTL). */
#define MAX_RECORDS_MAX		1048576
#define RECORD_TTL_MAX		86400

static int show(struct khnl *nl, bool json)
{
	struct kh_status st;
	int ret;

	ret = kh_get_status(nl, &st);
	if (ret) {
		khnl_perror(nl, ret, "reading the status");
		return 1;
	}
	if (!st.has_records) {
		kh_err("the module reports no record limits (version %u)",
		       st.version);
		kh_status_free(&st);
		return 1;
	}
	if (json)
		printf("{\"max_records\":%u,\"record_ttl\":%u,\"records\":%u}\n",
		       st.max_records, st.record_ttl, st.records);
	else
		printf("max-records %u\nrecord-ttl %u\nrecords %u\n",
		       st.max_records, st.record_ttl, st.records);
	kh_status_free(&st);
	return fflush(stdout) ? 1 : 0;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	uint32_t max_records = 0, ttl = 0;
	struct khnl nl;
	bool json;
	int ret, i;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	for (i = optind; i < argc; i += 2) {
		const char *what = argv[i], *val = argv[i + 1];

		if (strcmp(what, "max-records") && strcmp(what, "record-ttl"))
			return cmd_usage_error(cmd, "unknown setting '%s'", what);
		if (i + 1 >= argc)
			return cmd_usage_error(cmd, "%s needs a value", what);
		if (!strcmp(what, "max-records")) {
			if (max_records)
				return cmd_usage_error(cmd, "max-records given twice");
			if (parse_u32(val, 1, MAX_RECORDS_MAX, &max_records))
				return cmd_usage_error(cmd, "max-records must be 1 to %u",
						       MAX_RECORDS_MAX);
		} else {
			if (ttl)
				return cmd_usage_error(cmd, "record-ttl given twice");
			if (parse_u32(val, 1, RECORD_TTL_MAX, &ttl))
				return cmd_usage_error(cmd, "record-ttl must be 1 to %u seconds",
						       RECORD_TTL_MAX);
		}
	}

	if (kh_open(&nl))
		return 1;
	if (max_records || ttl) {
		ret = kh_set_config(&nl, max_records, ttl);
		if (ret) {
			khnl_perror(&nl, ret, "setting the record limits");
			khnl_close(&nl);
			return 1;
		}
	}
	/* the values in force, read back, whether set just now or not */
	ret = show(&nl, json);
	khnl_close(&nl);
	return ret;
}

const struct cmd cmd_config = {
	.name = "config",
	.args = "[max-records N] [record-ttl SECONDS] [-j]",
	.summary = "show or set the limits of the peer endpoint record table",
	.help =
	"  max-records N        keep at most N records (1 to 1048576); a new\n"
	"                       record is refused when the table is full\n"
	"  record-ttl SECONDS   how long a record lives unless confirmed again\n"
	"                       (1 to 86400); counts from a record's next update\n"
	"  -j, --json           print JSON\n"
	"\n"
	"Prints the limits in force and the number of records, after setting.\n",
	.run = run,
};
