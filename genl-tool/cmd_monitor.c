// SPDX-License-Identifier: GPL-2.0
/* khctl monitor: print kh_reflect's events as they come. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <netlink/socket.h>

#include "cmd.h"
#include "kh.h"
#include "show.h"
#include "util.h"

struct monitor {
	int family;
	bool json;
};

static void print_reflection(const struct kh_reflection *r, bool json)
{
	char refl[ENDPOINT_STRLEN], ep[ENDPOINT_STRLEN];

	format_endpoint(&r->reflector, refl, sizeof(refl));
	format_endpoint(&r->endpoint, ep, sizeof(ep));
	if (json) {
		printf("{\"event\":\"reflection\",\"port\":%u,\"reflector\":",
		       r->port);
		json_print_string(stdout, refl);
		fputs(",\"endpoint\":", stdout);
		json_print_string(stdout, ep);
		fputs(",\"rtt_us\":", stdout);
		if (r->has_rtt)
			printf("%u}\n", r->rtt_us);
		else
			fputs("null}\n", stdout);
	} else {
		printf("reflection port %u reflector %s endpoint %s", r->port,
		       refl, ep);
		if (r->has_rtt)
			printf(" rtt %uus", r->rtt_us);
		putchar('\n');
	}
}

/* peer added KEY endpoint E source S [via R] */
static void print_peer(const struct kh_record *rec, bool json)
{
	char key[KEY_B64_LEN + 1], ep[ENDPOINT_STRLEN], via[ENDPOINT_STRLEN];

	if (json) {
		printf("{\"event\":\"peer\",\"kind\":\"%s\",",
		       kh_event_name(rec->event));
		print_record_json(rec);
		fputs("}\n", stdout);
		return;
	}
	key_to_base64(key, rec->key);
	format_endpoint(&rec->endpoint, ep, sizeof(ep));
	printf("peer %s %s endpoint %s source %s", kh_event_name(rec->event),
	       key, ep, kh_source_name(rec->source));
	if (rec->reflector.ss_family &&
	    !format_endpoint(&rec->reflector, via, sizeof(via)))
		printf(" via %s", via);
	putchar('\n');
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct kh_reflection r;
	struct kh_record rec;
	uint8_t cmd;

	if (nlmsg_hdr(msg)->nlmsg_type != m->family)
		return 0;
	cmd = kh_msg_cmd(msg);
	if (cmd == KH_CMD_REFLECTION) {
		if (kh_parse_reflection(msg, &r))
			kh_err("skipped a malformed reflection event");
		else
			print_reflection(&r, m->json);
	} else if (cmd == KH_CMD_PEER_EVENT) {
		if (kh_parse_record(msg, &rec))
			kh_err("skipped a malformed peer event");
		else
			print_peer(&rec, m->json);
	} else if (m->json) {
		printf("{\"event\":\"unknown\",\"cmd\":%u}\n", cmd);
	} else {
		printf("event %u\n", cmd);
	}
	/* a consumer reading a pipe wants each event as it happens */
	if (fflush(stdout))
		return -errno;
	return 0;
}

/*
 * SIGINT and SIGTERM arrive through a signalfd, so the loop needs neither
 * a handler nor a global flag, and stops between two events.
 */
static int loop(struct nl_sock *ev, struct monitor *m)
{
	struct pollfd pfd[2] = {
		{ .fd = nl_socket_get_fd(ev), .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (!sigprocmask(SIG_BLOCK, &mask, NULL))
		pfd[1].fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (pfd[1].fd < 0) {
		kh_err("signalfd: %s", strerror(errno));
		return 1;
	}

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			kh_err("poll: %s", strerror(errno));
			ret = 1;
			break;
		}
		if (pfd[1].revents) {
			ret = 0;
			break;
		}
		if (!pfd[0].revents)
			continue;
		ret = khnl_events_read(ev, on_event, m);
		if (ret == -ENOBUFS) {
			kh_err("events were lost: the receive buffer overran");
			continue;
		}
		if (ret) {
			khnl_perror(NULL, ret, "reading events");
			ret = 1;
			break;
		}
	}
	close(pfd[1].fd);
	return ret;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct monitor m = { 0 };
	struct nl_sock *ev;
	struct khnl nl;
	int ret;

	ret = cmd_parse_json_only(cmd, argc, argv, &m.json);
	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);

	if (kh_open(&nl))
		return 1;
	m.family = nl.kh_family;
	ret = kh_events_open(&nl, &ev);
	if (ret) {
		khnl_perror(NULL, ret, "listening to %s events", KH_GENL_NAME);
		khnl_close(&nl);
		return 1;
	}
	ret = loop(ev, &m);
	nl_socket_free(ev);
	khnl_close(&nl);
	return ret;
}

const struct cmd cmd_monitor = {
	.name = "monitor",
	.args = "[-j]",
	.summary = "print kh_reflect's events as they happen, until interrupted",
	.help =
	"  -j, --json   print one JSON object per line\n"
	"\n"
	"Events: a probe's answer (reflection), and a peer endpoint record added,\n"
	"changed (its endpoint) or removed (peer added|changed|removed).\n",
	.run = run,
};
