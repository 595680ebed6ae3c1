// SPDX-License-Identifier: GPL-2.0
/* khctl reflections: the probe results the module keeps. */
#include <getopt.h>

#include "cmd.h"
#include "kh.h"
#include "util.h"

struct listing {
	bool json;
	unsigned int n;
};

static int print_one(const struct kh_reflection *r, void *arg)
{
	char refl[ENDPOINT_STRLEN], ep[ENDPOINT_STRLEN];
	struct listing *l = arg;

	/* kh_parse_reflection() checked the families: these cannot fail */
	format_endpoint(&r->reflector, refl, sizeof(refl));
	format_endpoint(&r->endpoint, ep, sizeof(ep));
	if (l->json) {
		printf("%s{\"port\":%u,\"reflector\":", l->n ? "," : "",
		       r->port);
		json_print_string(stdout, refl);
		fputs(",\"endpoint\":", stdout);
		json_print_string(stdout, ep);
		fputs(",\"rtt_us\":", stdout);
		if (r->has_rtt)
			printf("%u", r->rtt_us);
		else
			fputs("null", stdout);
		fputs(",\"age_ms\":", stdout);
		if (r->has_age)
			printf("%u}", r->age_ms);
		else
			fputs("null}", stdout);
	} else {
		printf("port %u reflector %s endpoint %s", r->port, refl, ep);
		if (r->has_rtt)
			printf(" rtt %uus", r->rtt_us);
		if (r->has_age)
			printf(" age %ums", r->age_ms);
		putchar('\n');
	}
	l->n++;
	return 0;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct listing l = { 0 };
	struct khnl nl;
	int ret, code = 0;

	ret = cmd_parse_json_only(cmd, argc, argv, &l.json);
	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);

	if (kh_open(&nl))
		return 1;
	if (l.json)
		putchar('[');
	ret = kh_dump_reflections(&nl, print_one, &l);
	/* even a failed dump leaves a well-formed, if partial, document */
	if (l.json)
		puts("]");
	if (fflush(stdout))
		code = 1;
	if (ret) {
		khnl_perror(&nl, ret, "listing the reflections");
		code = 1;
	}
	khnl_close(&nl);
	return code;
}

const struct cmd cmd_reflections = {
	.name = "reflections",
	.args = "[-j]",
	.summary = "list the stored probe results: how each reflector saw us",
	.help =
	"  -j, --json   print JSON\n",
	.run = run,
};
