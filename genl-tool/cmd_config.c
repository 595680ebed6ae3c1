// SPDX-License-Identifier: GPL-2.0
/* khctl config: the limits of the record table and of the answers. */
#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "cmd.h"
#include "kh.h"
#include "util.h"

/* The ranges the module's policy enforces. */
#define MAX_RECORDS_MAX		1048576
#define RECORD_TTL_MAX		86400
#define RL_MAX			10000000
#define RELAY_RATE_MAX		1000000000

static const struct setting {
	const char *name;
	uint32_t min, max;
	size_t off;		/* in struct kh_config */
} settings[] = {
	{ "max-records", 1, MAX_RECORDS_MAX, offsetof(struct kh_config, max_records) },
	{ "record-ttl", 1, RECORD_TTL_MAX, offsetof(struct kh_config, record_ttl) },
	{ "rate", 1, RL_MAX, offsetof(struct kh_config, rl_rate) },
	{ "burst", 1, RL_MAX, offsetof(struct kh_config, rl_burst) },
	{ "total-rate", 1, RL_MAX, offsetof(struct kh_config, rl_total) },
	{ "relay-rate", 1500, RELAY_RATE_MAX, offsetof(struct kh_config, relay_rate) },
};

static int show(struct khnl *nl, bool json)
{
	struct kh_status st;
	int ret;

	ret = kh_get_status(nl, &st);
	if (ret) {
		khnl_perror(nl, ret, "reading the status");
		return 1;
	}
	if (!st.has_records || !st.has_ratelimit) {
		kh_err("the module reports no limits (version %u)", st.version);
		kh_status_free(&st);
		return 1;
	}
	if (json)
		printf("{\"max_records\":%u,\"record_ttl\":%u,\"records\":%u,"
		       "\"rate\":%u,\"burst\":%u,\"total_rate\":%u,"
		       "\"relay_rate\":%u}\n",
		       st.max_records, st.record_ttl, st.records, st.rl_rate,
		       st.rl_burst, st.rl_total, st.relay_rate);
	else
		printf("max-records %u\nrecord-ttl %u\nrecords %u\n"
		       "rate %u\nburst %u\ntotal-rate %u\nrelay-rate %u\n",
		       st.max_records, st.record_ttl, st.records, st.rl_rate,
		       st.rl_burst, st.rl_total, st.relay_rate);
	kh_status_free(&st);
	return fflush(stdout) ? 1 : 0;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct kh_config cfg = { 0 };
	bool json, any = false;
	struct khnl nl;
	int ret, i;
	size_t s;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	for (i = optind; i < argc; i += 2) {
		const char *what = argv[i], *val = argv[i + 1];
		uint32_t *field;

		for (s = 0; s < ARRAY_SIZE(settings); s++)
			if (!strcmp(what, settings[s].name))
				break;
		if (s == ARRAY_SIZE(settings))
			return cmd_usage_error(cmd, "unknown setting '%s'", what);
		if (i + 1 >= argc)
			return cmd_usage_error(cmd, "%s needs a value", what);
		field = (uint32_t *)((char *)&cfg + settings[s].off);
		if (*field)
			return cmd_usage_error(cmd, "%s given twice", what);
		if (parse_u32(val, settings[s].min, settings[s].max, field))
			return cmd_usage_error(cmd, "%s must be %u to %u", what,
					       settings[s].min, settings[s].max);
		any = true;
	}

	if (kh_open(&nl))
		return 1;
	if (any) {
		ret = kh_set_config(&nl, &cfg);
		if (ret) {
			khnl_perror(&nl, ret, "setting the limits");
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
	.args = "[max-records N] [record-ttl SECONDS] [rate N] [burst N] [total-rate N] [relay-rate BYTES] [-j]",
	.summary = "show or set the limits of the record table and of the answers",
	.help =
	"  max-records N        keep at most N records (1 to 1048576); a new\n"
	"                       record is refused when the table is full\n"
	"  record-ttl SECONDS   how long a record lives unless confirmed again\n"
	"                       (1 to 86400); counts from a record's next update\n"
	"  rate N               probe requests answered per second for one source\n"
	"                       address (an IPv6 /64 counts as one); default 20\n"
	"  burst N              how many of those one source may get at once;\n"
	"                       default 5\n"
	"  total-rate N         requests answered per second in this network\n"
	"                       namespace, all sources together; default 10000\n"
	"  relay-rate BYTES     bytes per second one peer may send through this\n"
	"                       namespace's relay (1500 to 1000000000; the burst\n"
	"                       is one second's worth); default 4194304\n"
	"  -j, --json           print JSON\n"
	"\n"
	"Requests over a limit get no answer and are counted in drop_ratelimit;\n"
	"relayed packets over it are dropped and counted in relay_limited.\n"
	"Prints the limits in force and the number of records, after setting.\n",
	.run = run,
};
