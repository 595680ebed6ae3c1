// SPDX-License-Identifier: GPL-2.0
/*
 * What khctl peers sync and khctl netcheck share: their options, the
 * sockets of a run, a round's tables freed and the run's end, the clock
 * and the wait for events.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netlink/socket.h>

#include "netwatch.h"
#include "sync.h"
#include "util.h"

#define DEFAULT_TIMEOUT_MS	2000
#define MAX_TIMEOUT_MS		3600000
#define MAX_RELAY_AFTER_MS	600000
#define DEFAULT_BDAY_MS		20000
#define DEFAULT_INTERVAL_S	25
#define MAX_INTERVAL_S		86400

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return v;
	p = reallocarray(v, c, size);
	if (p)
		*cap = c;
	return p;
}

void sync_init(struct sync *s, bool netcheck)
{
	*s = (struct sync){
		.interval_s = DEFAULT_INTERVAL_S,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		.start_ttl = APPLY_DEFAULT_START_TTL,
		.relay_after_ms = APPLY_DEFAULT_RELAY_AFTER_MS,
		.bday_ms = DEFAULT_BDAY_MS,
		.nat = -1,
		.netcheck = netcheck,
		.sigfd = -1,
		.netfd = -1,
	};
}

static int add_given(struct sync *s, const char *arg, const struct cmd *cmd)
{
	struct sockaddr_storage *v, ss;
	const char *why;
	socklen_t len;

	if (parse_endpoint(arg, &ss, &len, &why))
		return cmd_usage_error(cmd, "%s: %s", arg, why);
	v = reallocarray(s->given, s->n_given + 1, sizeof(*v));
	if (!v) {
		kh_err("%s", strerror(ENOMEM));
		return 1;
	}
	s->given = v;
	s->given[s->n_given++] = ss;
	return 0;
}

/* Options with no letter. */
enum {
	OPT_STATE_DIR = 0x100,
	OPT_NO_CACHE,
};

/* One option of getopt_long()'s: -1 to go on, else the exit code. */
static int parse_opt(struct sync *s, const struct cmd *cmd, int ch,
		     char **argv)
{
	uint32_t ttl;
	int ret;

	switch (ch) {
	case 'r':
		ret = add_given(s, optarg, cmd);
		return ret ? ret : -1;
	case 'w':
		s->watch = true;
		return -1;
	case 'i':
		if (parse_u32(optarg, 1, MAX_INTERVAL_S, &s->interval_s))
			return cmd_usage_error(cmd, "interval must be 1 to %u seconds",
					       MAX_INTERVAL_S);
		return -1;
	case 't':
		if (parse_u32(optarg, 1, MAX_TIMEOUT_MS, &s->timeout_ms))
			return cmd_usage_error(cmd, "timeout must be 1 to %u milliseconds",
					       MAX_TIMEOUT_MS);
		return -1;
	case 's':
		if (parse_u32(optarg, 0, 255, &ttl))
			return cmd_usage_error(cmd, "start TTL must be 0 to 255");
		s->start_ttl = (uint8_t)ttl;
		s->start_ttl_given = true;
		return -1;
	case 'R':
		if (parse_u32(optarg, 0, MAX_RELAY_AFTER_MS,
			      &s->relay_after_ms))
			return cmd_usage_error(cmd, "relay-after must be 0 to %u milliseconds",
					       MAX_RELAY_AFTER_MS);
		return -1;
	case 'B':
		if (parse_u32(optarg, 0, KH_BDAY_MAX_TIME_MS, &s->bday_ms))
			return cmd_usage_error(cmd, "birthday must be 0 to %u milliseconds",
					       KH_BDAY_MAX_TIME_MS);
		return -1;
	case 'j':
		s->json = true;
		return -1;
	case OPT_STATE_DIR:
		if (!*optarg)
			return cmd_usage_error(cmd, "--state-dir needs a directory");
		s->state_dir = optarg;
		s->state_dir_given = true;
		return -1;
	case OPT_NO_CACHE:
		s->no_cache = true;
		return -1;
	case 'h':
		cmd_help(cmd);
		return 0;
	default:
		return cmd_bad_option(cmd, ch, argv);
	}
}

/* -1: go on; else the exit code. */
static int parse_args(struct sync *s, const struct cmd *cmd, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "reflector", required_argument, NULL, 'r' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "start-ttl", required_argument, NULL, 's' },
		{ "relay-after", required_argument, NULL, 'R' },
		{ "birthday", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *env;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":r:wi:t:s:R:B:jh", opts, NULL)) != -1) {
		ret = parse_opt(s, cmd, ch, argv);
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	if (s->netcheck && (s->watch || s->interval_s != DEFAULT_INTERVAL_S ||
			    s->start_ttl_given ||
			    s->relay_after_ms != APPLY_DEFAULT_RELAY_AFTER_MS ||
			    s->bday_ms != DEFAULT_BDAY_MS || s->no_cache ||
			    s->state_dir_given))
		return cmd_usage_error(cmd, "--watch, --interval, --start-ttl, --relay-after, --birthday, --state-dir and --no-cache are options of peers sync");
	s->name = argv[optind];
	if (s->netcheck || s->no_cache) {
		s->state_dir = NULL;
	} else if (!s->state_dir) {
		env = getenv(CACHE_DIR_ENV);
		s->state_dir = env && *env ? env : CACHE_DEFAULT_DIR;
	}
	return -1;
}

/*
 * Read the command line and open the sockets: -1 to go on (sync_end()
 * then), else the exit code (nothing left to end).
 */
int sync_start(struct sync *s, const struct cmd *cmd, int argc, char **argv)
{
	int ret;

	ret = parse_args(s, cmd, argc, argv);
	if (ret < 0 && kh_open(&s->nl))
		ret = 1;
	if (ret >= 0) {
		free(s->given);
		s->given = NULL;
		return ret;
	}
	/* subscribe before the first probe, or a quick answer is missed */
	ret = kh_events_open(&s->nl, &s->ev);
	if (ret) {
		khnl_perror(NULL, ret, "listening to %s events", KH_GENL_NAME);
		sync_end(s);
		return 1;
	}
	return -1;
}

/* Forget the last round's probing and changes: a new one begins. */
void free_round(struct sync *s)
{
	free(s->refl);
	free(s->batch);
	free(s->sent);
	free(s->index);
	free(s->queue);
	s->refl = NULL;
	s->batch = NULL;
	s->sent = NULL;
	s->index = NULL;
	s->queue = NULL;
	s->n_refl = s->n_batch = s->n_done = s->n_sent = 0;
	s->next_expiry = s->in_flight = s->q_head = s->q_len = 0;
	s->n_changes = 0;
}

void sync_end(struct sync *s)
{
	free_round(s);
	free(s->changes);
	free(s->pending);
	free(s->held);
	free(s->bad);
	free(s->live);
	free(s->given);
	cache_free(&s->cache);
	wg_device_free(s->dev);
	kh_bdays_free(&s->bdays);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->netfd >= 0)
		close(s->netfd);
	if (s->ev)
		nl_socket_free(s->ev);
	khnl_close(&s->nl);
}

/*
 * What came on the rtnetlink socket: a change that can move our path
 * starts a round NETWATCH_DEBOUNCE_MS after the last of its burst.
 */
static void read_net(struct sync *s)
{
	int ret = netwatch_read(s->netfd, (int)s->dev->ifindex);

	if (ret < 0) {
		kh_err("reading network events: %s; not followed any more",
		       strerror(-ret));
		close(s->netfd);
		s->netfd = -1;
		return;
	}
	if (ret)
		s->net_at_us = now_us() + NETWATCH_DEBOUNCE_MS * 1000ULL;
}

/*
 * Wait until @until at most for an event or a signal (which sets
 * s->stop); *readable when events came.  A network change is noted for
 * the watch loop (s->net_at_us).  -errno when poll failed.
 */
int wait_fds(struct sync *s, uint64_t until, uint64_t now, bool *readable)
{
	struct pollfd pfd[3] = {
		{ .fd = nl_socket_get_fd(s->ev), .events = POLLIN },
		{ .fd = s->sigfd, .events = POLLIN },
		{ .fd = s->netfd, .events = POLLIN },
	};
	int ret;

	*readable = false;
	ret = poll(pfd, 3, until > now ? (int)((until - now + 999) / 1000) : 0);
	if (ret < 0) {
		if (errno == EINTR)
			return 0;
		ret = -errno;
		kh_err("poll: %s", strerror(-ret));
		return ret;
	}
	if (s->sigfd >= 0 && pfd[1].revents)
		s->stop = true;
	if (s->netfd >= 0 && pfd[2].revents)
		read_net(s);
	*readable = pfd[0].revents != 0;
	return 0;
}
