// SPDX-License-Identifier: GPL-2.0
/* khctl status: watched ports, checked against their devices, and counters. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kh.h"
#include "show.h"
#include "util.h"
#include "wg.h"

#define PORT_GONE	(-1)

/*
 * A watch is labelled with its device's ifindex: ask WireGuard what that
 * device listens on now, since nothing tells the module when it changes.
 */
static int device_port(struct khnl *nl, uint32_t ifindex, int *port)
{
	struct wg_device *dev;
	int ret;

	*port = PORT_GONE;
	if (!ifindex)
		return 0;
	ret = wg_get_device(nl, NULL, ifindex, &dev);
	if (ret == -ENODEV || ret == -EOPNOTSUPP || ret == -WG_ENOFAMILY)
		return 0;
	if (ret)
		return ret;
	*port = dev->listen_port;
	wg_device_free(dev);
	return 0;
}

static void print_counter_name(const struct kh_counter *c, bool json)
{
	const char *name = kh_stat_name(c->id);

	if (json)
		putchar('"');
	if (name)
		fputs(name, stdout);
	else
		printf("stat_%u", c->id);
	if (json)
		putchar('"');
}

static void print_bday_json(const struct kh_bday *b)
{
	char key[KEY_B64_LEN + 1];

	key_to_base64(key, b->peer);
	printf("{\"port\":%u,\"peer\":\"%s\",\"mode\":\"%s\",\"state\":\"%s\",\"endpoint\":",
	       b->port, key, kh_bday_mode_name(b->mode),
	       kh_bday_state_name(b->state));
	print_endpoint_json(&b->target);
	printf(",\"count\":%u,\"rate\":%u,\"time_limit_ms\":%u,\"ports_opened\":%u,\"probes_sent\":%u,\"age_ms\":%u,\"found\":",
	       b->count, b->rate, b->time_ms, b->ports, b->probes, b->age_ms);
	if (b->found.ss_family) {
		print_endpoint_json(&b->found);
		printf(",\"took_ms\":%u", b->took_ms);
	} else {
		fputs("null,\"took_ms\":null", stdout);
	}
	if (b->local_port)
		printf(",\"local_port\":%u}", b->local_port);
	else
		fputs(",\"local_port\":null}", stdout);
}

static void print_bday(const struct kh_bday *b)
{
	char key[KEY_B64_LEN + 1], ep[ENDPOINT_STRLEN];

	key_to_base64(key, b->peer);
	format_endpoint(&b->target, ep, sizeof(ep));
	printf("  port %u peer %s: %s toward %s, %s\n", b->port, key,
	       kh_bday_mode_name(b->mode), ep, kh_bday_state_name(b->state));
	if (b->mode == KH_BDAY_SPRAY)
		printf("    ports opened %u of %u", b->ports, b->count);
	else
		printf("    probes sent %u of %u", b->probes, b->count);
	printf(", at most %u/s, time limit %u ms, started %u ms ago\n",
	       b->rate, b->time_ms, b->age_ms);
	if (b->found.ss_family) {
		format_endpoint(&b->found, ep, sizeof(ep));
		printf("    found: the peer at %s after %u ms", ep, b->took_ms);
		if (b->local_port)
			printf(", through our port %u", b->local_port);
		putchar('\n');
	}
}

static void print_json(const struct kh_status *st, const int *dev_ports,
		       const struct kh_bdays *bd)
{
	size_t i;

	printf("{\"version\":%u,\"watching\":[", st->version);
	for (i = 0; i < st->n_watches; i++) {
		const struct kh_watch *w = &st->watches[i];

		printf("%s{\"ifname\":", i ? "," : "");
		if (w->ifname[0])
			json_print_string(stdout, w->ifname);
		else
			fputs("null", stdout);
		printf(",\"ifindex\":%u,\"port\":%u,\"has_key\":%s,\"fwmark\":%u",
		       w->ifindex, w->port, w->has_key ? "true" : "false",
		       w->fwmark);
		print_nat_json(w->nat);
		fputs(",\"device_port\":", stdout);
		if (dev_ports[i] == PORT_GONE)
			fputs("null}", stdout);
		else
			printf("%d}", dev_ports[i]);
	}
	fputs("],\"records\":", stdout);
	if (st->has_records)
		printf("{\"count\":%u,\"max\":%u,\"ttl\":%u}", st->records,
		       st->max_records, st->record_ttl);
	else
		fputs("null", stdout);
	fputs(",\"ratelimit\":", stdout);
	if (st->has_ratelimit)
		printf("{\"rate\":%u,\"burst\":%u,\"total\":%u}", st->rl_rate,
		       st->rl_burst, st->rl_total);
	else
		fputs("null", stdout);
	if (st->relay_rate)
		printf(",\"relay_rate\":%u", st->relay_rate);
	else
		fputs(",\"relay_rate\":null", stdout);
	fputs(",\"birthday\":[", stdout);
	for (i = 0; i < bd->n; i++) {
		if (i)
			putchar(',');
		print_bday_json(&bd->v[i]);
	}
	fputs("],\"counters\":{", stdout);
	for (i = 0; i < st->n_counters; i++) {
		if (i)
			putchar(',');
		print_counter_name(&st->counters[i], true);
		printf(":%" PRIu64, st->counters[i].value);
	}
	puts("}}");
}

static void print_human(const struct kh_status *st, const int *dev_ports,
			const struct kh_bdays *bd)
{
	size_t i;

	printf("kh_reflect version %u", st->version);
	if (st->version != KH_GENL_VERSION)
		printf(" (khctl speaks version %d)", KH_GENL_VERSION);
	puts("\nwatching:");
	if (!st->n_watches)
		puts("  (nothing)");
	for (i = 0; i < st->n_watches; i++) {
		const struct kh_watch *w = &st->watches[i];
		char label[32];

		if (w->ifname[0])
			snprintf(label, sizeof(label), "%s", w->ifname);
		else
			snprintf(label, sizeof(label), "ifindex %u",
				 w->ifindex);
		printf("  %s port %u, %s", label, w->port,
		       w->has_key ? "key set" : "no key");
		if (w->fwmark)
			printf(", fwmark 0x%x", w->fwmark);
		if (w->nat) {
			fputs(", NAT ", stdout);
			print_nat(w->nat);
		}
		if (dev_ports[i] == PORT_GONE)
			fputs(" (device gone)", stdout);
		else if (dev_ports[i] == 0)
			fputs(" (device has no listen port now)", stdout);
		else if (dev_ports[i] != w->port)
			printf(" (device now listens on %d: run khctl reflect enable %s)",
			       dev_ports[i], w->ifname[0] ? w->ifname : "DEV");
		putchar('\n');
	}
	if (st->has_records)
		printf("records: %u of %u, ttl %us\n", st->records,
		       st->max_records, st->record_ttl);
	if (st->has_ratelimit)
		printf("answers: %u/s per source (burst %u), %u/s in all\n",
		       st->rl_rate, st->rl_burst, st->rl_total);
	if (st->relay_rate)
		printf("relay: %u bytes/s per peer\n", st->relay_rate);
	if (bd->n)
		puts("birthday probing:");
	for (i = 0; i < bd->n; i++)
		print_bday(&bd->v[i]);
	puts("counters:");
	for (i = 0; i < st->n_counters; i++) {
		fputs("  ", stdout);
		print_counter_name(&st->counters[i], false);
		printf(" %" PRIu64 "\n", st->counters[i].value);
	}
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct kh_bdays bd = { 0 };
	struct kh_status st;
	int *dev_ports = NULL;
	struct khnl nl;
	int ret, code = 1;
	bool json;
	size_t i;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);

	if (kh_open(&nl))
		return 1;
	ret = kh_get_status(&nl, &st);
	if (ret) {
		khnl_perror(&nl, ret, "reading the status");
		goto out_nl;
	}
	dev_ports = calloc(st.n_watches + 1, sizeof(*dev_ports));
	if (!dev_ports) {
		kh_err("%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < st.n_watches; i++) {
		ret = device_port(&nl, st.watches[i].ifindex, &dev_ports[i]);
		if (ret) {
			khnl_perror(&nl, ret, "asking WireGuard about ifindex %u",
				    st.watches[i].ifindex);
			goto out;
		}
	}
	ret = kh_dump_bdays(&nl, &bd);
	if (ret) {
		khnl_perror(&nl, ret, "reading the birthday sessions");
		goto out;
	}
	if (json)
		print_json(&st, dev_ports, &bd);
	else
		print_human(&st, dev_ports, &bd);
	code = fflush(stdout) ? 1 : 0;
out:
	kh_bdays_free(&bd);
	free(dev_ports);
	kh_status_free(&st);
out_nl:
	khnl_close(&nl);
	return code;
}

const struct cmd cmd_status = {
	.name = "status",
	.args = "[-j]",
	.summary = "show the watched ports, the record table and the counters",
	.help =
	"  -j, --json   print JSON\n"
	"\n"
	"A watched port whose WireGuard device now listens on another port, or\n"
	"is gone, is flagged: the module is not told when a listen port changes.\n"
	"Birthday probing sessions show their limits, what they sent and what\n"
	"they found.\n",
	.run = run,
};
