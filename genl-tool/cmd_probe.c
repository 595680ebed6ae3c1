// SPDX-License-Identifier: GPL-2.0
/* khctl probe DEV ADDR:PORT: how does a reflector see DEV's listen port? */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <netlink/socket.h>

#include "cmd.h"
#include "kh.h"
#include "util.h"
#include "wg.h"

/* One lost datagram must not fail the probe: send this many, spread out. */
#define PROBES			3
#define DEFAULT_TIMEOUT_MS	2000
#define MAX_TIMEOUT_MS		3600000

struct probe {
	int family;
	int n_sent;
	uint8_t nonce[PROBES][KH_NONCE_LEN];
	uint64_t sent_us[PROBES];
	bool found;
	struct kh_reflection r;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct probe *p = arg;
	struct kh_reflection r;
	int i;

	if (p->found || nlmsg_hdr(msg)->nlmsg_type != p->family ||
	    kh_msg_cmd(msg) != KH_CMD_REFLECTION)
		return 0;
	/* other probes in this netns, or garbage: neither is ours */
	if (kh_parse_reflection(msg, &r) || !r.has_nonce)
		return 0;
	for (i = 0; i < p->n_sent; i++) {
		if (memcmp(r.nonce, p->nonce[i], KH_NONCE_LEN))
			continue;
		if (!r.has_rtt)
			r.rtt_us = (uint32_t)(now_us() - p->sent_us[i]);
		p->r = r;
		p->found = true;
		break;
	}
	return 0;
}

static void probe_error(const struct khnl *nl, int err, const char *name,
			uint16_t port)
{
	if (err != -ENOENT) {
		khnl_perror(nl, err, "probing from %s port %u", name, port);
		return;
	}
	if (nl->ext_msg[0])
		kh_err("%s port %u: %s", name, port, nl->ext_msg);
	else
		kh_err("%s port %u is not watched", name, port);
	kh_err("to watch it: khctl reflect enable %s", name);
}

static int wait_answer(struct khnl *nl, struct nl_sock *ev, const char *name,
		       uint16_t port, const struct sockaddr_storage *refl,
		       uint32_t timeout_ms, struct probe *p)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(ev), .events = POLLIN };
	uint64_t span = (uint64_t)timeout_ms * 1000, start = now_us();
	uint64_t now, next;
	int ret;

	for (;;) {
		now = now_us();
		next = start + span * (uint64_t)p->n_sent / PROBES;
		if (p->n_sent < PROBES && now >= next) {
			ret = kh_probe(nl, port, refl, p->nonce[p->n_sent]);
			if (ret) {
				probe_error(nl, ret, name, port);
				return ret;
			}
			p->sent_us[p->n_sent++] = now;
			continue;
		}
		if (now >= start + span)
			return -ETIMEDOUT;
		if (p->n_sent == PROBES || next > start + span)
			next = start + span;

		ret = poll(&pfd, 1, (int)((next - now + 999) / 1000));
		if (ret < 0 && errno != EINTR) {
			ret = -errno;
			kh_err("poll: %s", strerror(-ret));
			return ret;
		}
		if (ret <= 0)
			continue;
		ret = khnl_events_read(ev, on_event, p);
		/* an overrun may have eaten ours; a later probe may still do */
		if (ret && ret != -ENOBUFS) {
			khnl_perror(NULL, ret, "reading events");
			return ret;
		}
		if (p->found)
			return 0;
	}
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char refl_str[ENDPOINT_STRLEN], ep_str[ENDPOINT_STRLEN];
	uint32_t timeout_ms = DEFAULT_TIMEOUT_MS;
	struct probe p = { 0 };
	struct sockaddr_storage refl;
	struct nl_sock *ev = NULL;
	struct wg_device *dev = NULL;
	const char *name, *why;
	struct khnl nl;
	bool json = false;
	socklen_t len;
	int ch, ret, code = 1;

	while ((ch = getopt_long(argc, argv, ":t:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (parse_u32(optarg, 1, MAX_TIMEOUT_MS, &timeout_ms))
				return cmd_usage_error(cmd, "timeout must be 1 to %u milliseconds",
						       MAX_TIMEOUT_MS);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			cmd_help(cmd);
			return 0;
		default:
			return cmd_bad_option(cmd, ch, argv);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(cmd, argc - optind < 2 ?
				       "missing argument" : "too many arguments");
	name = argv[optind];
	if (parse_endpoint(argv[optind + 1], &refl, &len, &why))
		return cmd_usage_error(cmd, "%s: %s", argv[optind + 1], why);
	format_endpoint(&refl, refl_str, sizeof(refl_str));

	if (kh_open(&nl))
		return 1;
	p.family = nl.kh_family;
	ret = wg_get_device(&nl, name, 0, &dev);
	if (ret) {
		wg_perror(&nl, ret, name);
		goto out;
	}
	if (!dev->listen_port) {
		kh_err("%s has no listen port yet", name);
		goto out;
	}
	/* listen before asking, or a quick answer is missed */
	ret = kh_events_open(&nl, &ev);
	if (ret) {
		khnl_perror(NULL, ret, "listening to %s events", KH_GENL_NAME);
		goto out;
	}

	ret = wait_answer(&nl, ev, name, dev->listen_port, &refl, timeout_ms,
			  &p);
	if (ret == -ETIMEDOUT)
		kh_err("no answer from %s within %u ms: is kh_reflect loaded there and the port watched?",
		       refl_str, timeout_ms);
	if (ret)
		goto out;

	if (format_endpoint(&p.r.endpoint, ep_str, sizeof(ep_str))) {
		kh_err("the answer carries an unprintable endpoint");
		goto out;
	}
	if (json) {
		format_endpoint(&p.r.reflector, refl_str, sizeof(refl_str));
		fputs("{\"reflector\":", stdout);
		json_print_string(stdout, refl_str);
		fputs(",\"endpoint\":", stdout);
		json_print_string(stdout, ep_str);
		printf(",\"rtt_us\":%u}\n", p.r.rtt_us);
	} else {
		puts(ep_str);
	}
	code = fflush(stdout) ? 1 : 0;
out:
	if (ev)
		nl_socket_free(ev);
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

const struct cmd cmd_probe = {
	.name = "probe",
	.args = "DEV ADDR:PORT [--timeout MS] [-j]",
	.summary = "ask a reflector how it sees the listen port of DEV",
	.help =
	"  DEV                 WireGuard device whose listen port sends the probe\n"
	"                      (watch it first: khctl reflect enable DEV)\n"
	"  ADDR:PORT           the reflector, 198.51.100.1:51820 or\n"
	"                      [2001:db8::1]:51820\n"
	"  -t, --timeout MS    give up after MS milliseconds (default 2000); up to\n"
	"                      3 probes go out in that time\n"
	"  -j, --json          print JSON, with the round-trip time\n"
	"\n"
	"Prints the public address and port (the endpoint) that the reflector saw,\n"
	"that is, the NAT mapping in front of DEV's listen port.\n",
	.run = run,
};
