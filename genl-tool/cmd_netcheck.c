// SPDX-License-Identifier: GPL-2.0
/*
 * khctl netcheck DEV: probe every reflector from DEV's WireGuard port,
 * asking nothing, and say what the NAT in front of it does (the verdicts
 * of netcheck.c), per address family.
 */
#include <errno.h>
#include <stdio.h>

#include "hops.h"
#include "show.h"
#include "sync.h"
#include "util.h"

/* IPv6 works: null when no reflector was asked over it. */
static const char *works_json(const struct nc_family *f)
{
	if (!f->asked)
		return "null";
	return f->answered ? "true" : "false";
}

static void print_family_json(const char *name, const struct nc_family *f,
			      uint8_t ttl)
{
	printf(",\"%s\":{\"asked\":%zu,\"answered\":%zu,\"works\":%s,\"public\":",
	       name, f->asked, f->answered, works_json(f));
	print_endpoint_json(&f->seen);
	printf(",\"mapping_varies\":\"%s\",\"port_kept\":\"%s\",\"port_filtered\":\"%s\",\"start_ttl\":",
	       nc_verdict_name(f->varies), nc_verdict_name(f->port_kept),
	       nc_verdict_name(f->port_filtered));
	if (ttl)
		printf("%u}", ttl);
	else
		fputs("null}", stdout);
}

static void print_family(const char *name, const struct nc_family *f,
			 uint8_t ttl)
{
	char ep[ENDPOINT_STRLEN];

	if (!f->asked) {
		printf("%s: no reflector to ask\n", name);
		return;
	}
	if (!f->answered) {
		printf("%s: no reflector answered (%zu asked)\n", name, f->asked);
		return;
	}
	format_endpoint(&f->seen, ep, sizeof(ep));
	printf("%s: public %s; mapping varies by destination: %s", name, ep,
	       nc_verdict_name(f->varies));
	if (f->varies == NC_UNKNOWN)
		fputs(" (needs answers from two reflector addresses)", stdout);
	printf("; port kept: %s; filtered by port: %s; ",
	       nc_verdict_name(f->port_kept), nc_verdict_name(f->port_filtered));
	if (ttl)
		printf("start TTL: %u\n", ttl);
	else
		puts("start TTL: not found (no router answered)");
}

/*
 * The start TTL peers sync would find (hops.c) toward the first reflector
 * of @family that answered; 0: none answered, or no router did.
 */
static uint8_t start_ttl(const struct sync *s, int family)
{
	size_t i;

	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];

		if (r->answered && r->addr.ss_family == family &&
		    r->seen_as.ss_family == family)
			return hops_find(&r->addr, &r->seen_as, s->dev->fwmark);
	}
	return 0;
}

static int netcheck_report(const struct sync *s)
{
	uint8_t ttl4 = start_ttl(s, AF_INET), ttl6 = start_ttl(s, AF_INET6);
	struct netcheck nc;

	if (round_analyze(s, &nc))
		return -ENOMEM;
	if (s->json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, s->name);
		printf(",\"port\":%u,\"mesh_key\":%s,", s->dev->listen_port,
		       s->has_key ? "true" : "false");
		print_reflectors_json(s);
		print_family_json("ipv4", &nc.v4, ttl4);
		print_family_json("ipv6", &nc.v6, ttl6);
		puts("}");
		return 0;
	}
	printf("%s: port %u\n", s->name, s->dev->listen_port);
	print_reflectors(s);
	print_family("IPv4", &nc.v4, ttl4);
	print_family("IPv6", &nc.v6, ttl6);
	if (!s->has_key)
		puts("filtering: not checked (the reflectors answer from another port only under the mesh key)");
	return 0;
}

/*
 * One round, reported.  0: done; -errno: it could not start (printed);
 * ROUND_SILENT or ROUND_FAILED (reported).
 */
static int netcheck_round(struct sync *s)
{
	int ret;

	ret = round_probe(s);
	if (ret || s->stop)
		return ret;
	if (!round_answered(s)) {
		netcheck_report(s);
		fflush(stdout);
		report_silence(s);
		return ROUND_SILENT;
	}
	/* under the mesh key netcheck tells too: filtering travels that way */
	if (s->has_key)
		tell_nat(s);
	ret = netcheck_report(s);
	return fflush(stdout) || ret ? ROUND_FAILED : 0;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct sync s;
	int code;

	sync_init(&s, true);
	code = sync_start(&s, cmd, argc, argv);
	if (code >= 0)
		return code;
	code = netcheck_round(&s) ? 1 : 0;
	sync_end(&s);
	return code;
}

const struct cmd cmd_netcheck = {
	.name = "netcheck",
	.args = "DEV [--reflector ADDR:PORT]... [--timeout MS] [-j]",
	.summary = "what the NAT in front of DEV's port does, as reflectors see it",
	.help =
	"  -r, --reflector ADDR:PORT  ask this reflector (repeat for more); by\n"
	"                      default every peer of DEV that has an endpoint\n"
	"  -t, --timeout MS    wait this long for answers (default 2000)\n"
	"  -j, --json          one JSON object\n"
	"\n"
	"Probes every reflector at once from DEV's WireGuard port (watching it if\n"
	"need be; no mesh key needed) and says, per address family: the public\n"
	"endpoint; whether the mapping varies by destination (yes when two\n"
	"reflectors, or a reflector's port and the next one, where its module\n"
	"answers too, see different endpoints: a symmetric NAT; unknown with\n"
	"no second answer); whether the public port is the\n"
	"listen port; whether the NAT filters by port (under the mesh key, each\n"
	"reflector is also asked to answer from the second port after its own:\n"
	"yes when no such\n"
	"answer gets in); and whether IPv6 works.  Fails when no reflector\n"
	"answers.  And the start TTL peers sync finds (see its help): one more\n"
	"than the routers in front of the port that count as ours.  Under the\n"
	"mesh key it also tells the reflectors what it\n"
	"found, and they pass it on with DEV's record, as peers sync does; the\n"
	"filtering verdict travels only this way.\n",
	.run = run,
};
