// SPDX-License-Identifier: GPL-2.0
/*
 * khctl peers sync DEV: ask reflectors where DEV's peers are, all at once,
 * and set what they say in WireGuard; --watch keeps at it and acts on
 * every record event as it comes.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <netlink/socket.h>

#include "apply.h"
#include "cmd.h"
#include "device.h"
#include "kh.h"
#include "netcheck.h"
#include "show.h"
#include "util.h"
#include "wg.h"

#define PROBES			3	/* sends per probe, as khctl probe */
/*
 * Sends per path check over --relay-after: often, since a peer that holds
 * (a safe start) answers only once the other side's packet came.
 */
#define PATH_PROBES		12
#define DEFAULT_TIMEOUT_MS	2000
#define MAX_TIMEOUT_MS		3600000
#define MAX_RELAY_AFTER_MS	600000
#define DEFAULT_BDAY_MS		20000
#define BDAY_POLL_MS		100	/* how often sessions are looked at */
#define CONFIRM_POLL_MS		200	/* how often WireGuard is read */
#define DEFAULT_INTERVAL_S	25
#define MAX_INTERVAL_S		86400
/*
 * The module remembers 64 outstanding probes per namespace (KH_MAX_PENDING,
 * not in the UAPI) and forgets the oldest first: an answer to a forgotten
 * probe is dropped.  Stay well below, leaving room for others.
 */
#define MAX_INFLIGHT		32
/* How many silent reflectors the error message names. */
#define NAME_SILENT		4

#define NONE			((size_t)-1)

/* How a round ended, beyond 0 (all well) and -errno (could not start). */
#define ROUND_SILENT		1	/* no reflector, or none answered */
#define ROUND_FAILED		2	/* some step failed; printed */

struct reflector {
	struct sockaddr_storage addr;
	size_t skip;			/* the peer at addr, not asked for */
	size_t b_first, b_n;		/* its batches */
	bool answered, auth;
	bool alt_asked, alt_answered;	/* netcheck's other-port answer */
	struct sockaddr_storage seen_as;
	uint32_t rtt_us;
	int err;			/* sending failed: -errno */
};

/* One probe's worth of wants to one reflector, sent up to PROBES times. */
struct batch {
	size_t refl;
	size_t first, n;		/* positions in the reflector's wants */
	int sends;
	uint64_t next_us;
	bool done;			/* answered, or cannot be sent */
	bool alt;			/* netcheck: answer from another port */
	size_t sent[PROBES];
};

struct sent {
	uint8_t nonce[KH_NONCE_LEN];
	size_t batch;
	uint64_t at_us;
	bool in_flight;
};

/* A peer whose path is checked: see check_paths(). */
struct path {
	size_t peer;			/* in dev->peers */
	struct kh_record rec;
	ssize_t relay;			/* the reflector relaying it, or -1 */
	uint8_t nonce[PATH_PROBES][KH_NONCE_LEN];
	int sends;
	bool answered;
	bool heard;			/* its own probe came: rec has where from */
	bool held;			/* we started it with a hold just now */
	bool want_relay;		/* no direct path: relay it */
	ssize_t via;			/* through this reflector */
	uint8_t bday;			/* enum kh_bday_mode; 0: none */
	bool bday_done;
	struct sockaddr_storage bday_at; /* found: the peer's endpoint */
	/* set direct, until WireGuard shows it works: confirm_paths() */
	bool confirm;
	struct sockaddr_storage direct;	/* the endpoint set */
	int64_t since_ms;		/* when, wall clock */
	uint64_t rx_bytes;		/* WireGuard's count before */
};

struct sync {
	/* options */
	const char *name;
	struct sockaddr_storage *given;	/* --reflector */
	size_t n_given;
	bool watch, json;
	bool netcheck;			/* khctl netcheck: probe, ask nothing */
	bool has_key;			/* a mesh key on the port */
	uint32_t interval_s, timeout_ms;
	uint8_t start_ttl;		/* 0: no safe start */
	uint32_t relay_after_ms;	/* 0: never relay */
	uint32_t bday_ms;		/* 0: no birthday probing */
	int nat;			/* KH_RECORD_F_NAT bits of our NAT,
					 * as told: -1 none yet
					 */
	struct kh_bdays bdays;		/* the module's sessions, this round */

	struct khnl nl;
	struct nl_sock *ev;
	int sigfd;
	bool stop;
	struct wg_device *dev;		/* as read at the last round */

	/* one round's probing */
	struct reflector *refl;
	size_t n_refl;
	struct batch *batch;
	size_t n_batch, n_done;
	struct sent *sent;
	size_t n_sent, next_expiry, in_flight;
	ssize_t *index;			/* nonce -> sent, open addressing */
	size_t index_mask;
	size_t *queue;			/* batches, by next_us */
	size_t q_head, q_len;
	uint64_t interval_us;

	/* a round's changes, and events between rounds */
	struct change *changes;
	size_t n_changes, cap_changes;
	struct kh_record *pending;
	size_t n_pending, cap_pending;
	bool lost;

	/* the paths being checked */
	struct path *paths;
	size_t n_paths;
	/* peers whose start we held, until their path is checked */
	uint8_t (*held)[KH_KEY_LEN];
	size_t n_held, cap_held;
	bool relay_phase;		/* path nonces are relay requests' */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void *grow(void *v, size_t n, size_t *cap, size_t size)
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

static void free_round(struct sync *s)
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

/* The nonce is random: its first bytes make a fine hash. */
static size_t nonce_hash(const uint8_t *nonce)
{
	uint64_t h;

	memcpy(&h, nonce, sizeof(h));
	return (size_t)h;
}

static void index_add(struct sync *s, size_t i)
{
	size_t h = nonce_hash(s->sent[i].nonce) & s->index_mask;

	while (s->index[h] >= 0)
		h = (h + 1) & s->index_mask;
	s->index[h] = (ssize_t)i;
}

static struct sent *index_find(struct sync *s, const uint8_t *nonce)
{
	size_t h = nonce_hash(nonce) & s->index_mask;

	for (; s->index[h] >= 0; h = (h + 1) & s->index_mask)
		if (!memcmp(s->sent[s->index[h]].nonce, nonce, KH_NONCE_LEN))
			return &s->sent[s->index[h]];
	return NULL;
}

static size_t wants_of(const struct sync *s, const struct reflector *r)
{
	if (s->netcheck)
		return 0;
	return s->dev->n_peers - (r->skip != NONE);
}

/*
 * The reflectors (--reflector, else every peer with an endpoint), each
 * asked about every other peer in batches of KH_MAX_WANT, and the tables
 * to track the probes.
 */
static int plan(struct sync *s)
{
	const struct wg_device *dev = s->dev;
	size_t i, j, n, cap;

	s->refl = calloc(s->n_given ? s->n_given : dev->n_peers + 1,
			 sizeof(*s->refl));
	if (!s->refl)
		return -ENOMEM;
	if (s->n_given) {
		for (i = 0; i < s->n_given; i++) {
			struct reflector *r = &s->refl[s->n_refl++];
			const struct wg_peer *p;

			r->addr = s->given[i];
			r->skip = NONE;
			/* a peer is not asked where it is itself */
			for (j = 0; j < dev->n_peers; j++) {
				p = &dev->peers[j];
				if (sockaddr_same(&p->endpoint, &r->addr)) {
					r->skip = j;
					break;
				}
			}
		}
	} else {
		for (i = 0; i < dev->n_peers; i++) {
			if (!endpoint_is_unicast(&dev->peers[i].endpoint))
				continue;
			/*
			 * Relayed peers have their reflector's endpoint: one
			 * reflector, asked about everyone (which peer is it?).
			 */
			for (j = 0; j < s->n_refl; j++)
				if (sockaddr_same(&s->refl[j].addr,
						  &dev->peers[i].endpoint))
					break;
			if (j < s->n_refl) {
				s->refl[j].skip = NONE;
				continue;
			}
			s->refl[s->n_refl].addr = dev->peers[i].endpoint;
			s->refl[s->n_refl++].skip = i;
		}
	}

	for (i = 0, n = 0; i < s->n_refl; i++)
		n += wants_of(s, &s->refl[i]) / KH_MAX_WANT + 1 + s->netcheck;
	s->batch = calloc(n + 1, sizeof(*s->batch));
	s->queue = calloc(n + 1, sizeof(*s->queue));
	s->sent = calloc(n * PROBES + 1, sizeof(*s->sent));
	for (cap = 16; cap < 2 * n * PROBES; cap *= 2)
		;
	s->index = malloc(cap * sizeof(*s->index));
	if (!s->batch || !s->queue || !s->sent || !s->index)
		return -ENOMEM;
	memset(s->index, 0xff, cap * sizeof(*s->index));
	s->index_mask = cap - 1;

	for (i = 0; i < s->n_refl; i++) {
		size_t w = wants_of(s, &s->refl[i]), first = 0;

		s->refl[i].b_first = s->n_batch;
		/* with nothing to ask, a probe still tells how we are seen */
		do {
			struct batch *b = &s->batch[s->n_batch];

			b->refl = i;
			b->first = first;
			b->n = w - first < KH_MAX_WANT ? w - first : KH_MAX_WANT;
			first += b->n;
			s->queue[s->n_batch] = s->n_batch;
			s->n_batch++;
		} while (first < w);
		/* netcheck under the mesh key: the other-port answer too */
		if (s->netcheck && s->has_key) {
			s->batch[s->n_batch].refl = i;
			s->batch[s->n_batch].alt = true;
			s->queue[s->n_batch] = s->n_batch;
			s->n_batch++;
			s->refl[i].alt_asked = true;
		}
		s->refl[i].b_n = s->n_batch - s->refl[i].b_first;
	}
	s->q_len = s->n_batch;
	return 0;
}

static void batch_done(struct sync *s, struct batch *b)
{
	int i;

	if (b->done)
		return;
	b->done = true;
	s->n_done++;
	for (i = 0; i < b->sends; i++) {
		struct sent *t = &s->sent[b->sent[i]];

		if (t->in_flight) {
			t->in_flight = false;
			s->in_flight--;
		}
	}
}

/* Errors that stop the round; any other is that reflector's alone. */
static bool fatal(int err)
{
	return err == -ENOENT || err == -ENOKEY || err == -ENOMEM;
}

static int send_batch(struct sync *s, size_t bi, uint64_t now)
{
	uint8_t wants[KH_MAX_WANT][KH_KEY_LEN];
	struct batch *b = &s->batch[bi];
	struct reflector *r = &s->refl[b->refl];
	struct sent *t = &s->sent[s->n_sent];
	size_t i, j;
	int ret;

	for (i = 0; i < b->n; i++) {
		j = b->first + i;
		if (r->skip != NONE && j >= r->skip)
			j++;
		memcpy(wants[i], s->dev->peers[j].public_key, KH_KEY_LEN);
	}
	if (b->alt)
		ret = kh_probe_alt(&s->nl, s->dev->listen_port, &r->addr,
				   s->dev->public_key, t->nonce);
	else
		ret = kh_probe_keys(&s->nl, s->dev->listen_port, &r->addr,
				    s->dev->has_public_key ?
				    s->dev->public_key : NULL,
				    wants, b->n, t->nonce);
	if (ret) {
		if (fatal(ret))
			return ret;
		/* no route and the like: this reflector is out, not the round */
		r->err = ret;
		for (i = 0; i < r->b_n; i++)
			batch_done(s, &s->batch[r->b_first + i]);
		return 0;
	}
	t->batch = bi;
	t->at_us = now;
	t->in_flight = true;
	s->in_flight++;
	index_add(s, s->n_sent);
	b->sent[b->sends++] = s->n_sent++;
	return 0;
}

static int on_probe_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_reflection ev;
	struct reflector *r;
	struct sent *t;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family ||
	    kh_msg_cmd(msg) != KH_CMD_REFLECTION)
		return 0;
	/* other probes in this netns, or garbage: neither is ours */
	if (kh_parse_reflection(msg, &ev) || !ev.has_nonce)
		return 0;
	t = index_find(s, ev.nonce);
	if (!t)
		return 0;
	batch_done(s, &s->batch[t->batch]);
	r = &s->refl[s->batch[t->batch].refl];
	if (s->batch[t->batch].alt) {
		r->alt_answered = true;
		return 0;
	}
	r->auth |= ev.auth;
	if (r->answered)
		return 0;
	r->answered = true;
	r->seen_as = ev.endpoint;
	r->rtt_us = ev.has_rtt ? ev.rtt_us : (uint32_t)(now_us() - t->at_us);
	return 0;
}

static int wait_fds(struct sync *s, uint64_t until, uint64_t now, bool *readable)
{
	struct pollfd pfd[2] = {
		{ .fd = nl_socket_get_fd(s->ev), .events = POLLIN },
		{ .fd = s->sigfd, .events = POLLIN },
	};
	int ret;

	*readable = false;
	ret = poll(pfd, s->sigfd >= 0 ? 2 : 1,
		   until > now ? (int)((until - now + 999) / 1000) : 0);
	if (ret < 0) {
		if (errno == EINTR)
			return 0;
		ret = -errno;
		kh_err("poll: %s", strerror(-ret));
		return ret;
	}
	if (s->sigfd >= 0 && pfd[1].revents)
		s->stop = true;
	*readable = pfd[0].revents != 0;
	return 0;
}

/*
 * All reflectors at once: every batch goes out at the start, unanswered
 * ones again after a third and two thirds of the timeout, at most
 * MAX_INFLIGHT waiting at any time; then wait for the answers until the
 * timeout.  Batches are queued by the time they are due, which the order
 * of sending keeps sorted.
 */
static int probe_all(struct sync *s)
{
	uint64_t start = now_us(), now, wake, deadline;
	bool readable;
	int ret;

	s->interval_us = (uint64_t)s->timeout_ms * 1000 / PROBES;
	deadline = start + (uint64_t)s->timeout_ms * 1000;
	for (size_t i = 0; i < s->n_batch; i++)
		s->batch[i].next_us = start;

	while (!s->stop) {
		now = now_us();
		while (s->next_expiry < s->n_sent &&
		       s->sent[s->next_expiry].at_us + s->interval_us <= now) {
			struct sent *t = &s->sent[s->next_expiry++];

			if (t->in_flight) {
				t->in_flight = false;
				s->in_flight--;
			}
		}
		while (s->q_len && s->in_flight < MAX_INFLIGHT && now < deadline) {
			size_t bi = s->queue[s->q_head];
			struct batch *b = &s->batch[bi];

			if (!b->done && b->next_us > now)
				break;
			s->q_head = (s->q_head + 1) % s->n_batch;
			s->q_len--;
			if (b->done)
				continue;
			ret = send_batch(s, bi, now);
			if (ret)
				return ret;
			if (!b->done && b->sends < PROBES) {
				b->next_us = now + s->interval_us;
				s->queue[(s->q_head + s->q_len) % s->n_batch] = bi;
				s->q_len++;
			}
		}
		if (s->n_done == s->n_batch || now >= deadline)
			return 0;

		wake = deadline;
		if (s->q_len && s->in_flight < MAX_INFLIGHT &&
		    s->batch[s->queue[s->q_head]].next_us < wake)
			wake = s->batch[s->queue[s->q_head]].next_us;
		if (s->in_flight >= MAX_INFLIGHT &&
		    s->sent[s->next_expiry].at_us + s->interval_us < wake)
			wake = s->sent[s->next_expiry].at_us + s->interval_us;
		ret = wait_fds(s, wake, now, &readable);
		if (ret)
			return ret;
		if (!readable)
			continue;
		ret = khnl_events_read(s->ev, on_probe_event, s);
		/* an overrun may have eaten answers; resends may still come */
		if (ret && ret != -ENOBUFS) {
			khnl_perror(NULL, ret, "reading events");
			return ret;
		}
	}
	return 0;
}

static int add_change(struct sync *s, const struct change *ch)
{
	struct change *v = grow(s->changes, s->n_changes, &s->cap_changes,
				sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->changes = v;
	s->changes[s->n_changes++] = *ch;
	return 0;
}

/* Remember a change that started with a hold: see check_paths(). */
static int note_held(struct sync *s, const struct change *ch)
{
	uint8_t (*v)[KH_KEY_LEN];

	if (ch->start != APPLY_START_HOLD)
		return 0;
	v = grow(s->held, s->n_held, &s->cap_held, sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->held = v;
	memcpy(s->held[s->n_held++], ch->key, KH_KEY_LEN);
	return 0;
}

/* Was key's start held?  Forgotten once asked. */
static bool take_held(struct sync *s, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < s->n_held; i++) {
		if (memcmp(s->held[i], key, KH_KEY_LEN))
			continue;
		memmove(s->held[i], s->held[i + 1],
			(s->n_held - i - 1) * sizeof(*s->held));
		s->n_held--;
		return true;
	}
	return false;
}

/* The reflector of this round at addr, or -1. */
static ssize_t reflector_at(const struct sync *s,
			    const struct sockaddr_storage *addr)
{
	size_t i;

	for (i = 0; i < s->n_refl; i++)
		if (sockaddr_same(&s->refl[i].addr, addr))
			return (ssize_t)i;
	return -1;
}

/*
 * A peer whose endpoint is a reflector's, not its record's: relayed.  Its
 * record is for check_paths() to try, never to set over the relay.
 */
static bool relayed(const struct sync *s, const struct wg_peer *p,
		    const struct kh_record *rec)
{
	return !sockaddr_same(&rec->endpoint, &p->endpoint) &&
	       reflector_at(s, &p->endpoint) >= 0;
}

/* The found birthday session of p, whose pair WireGuard uses; or NULL. */
static const struct kh_bday *bday_of(const struct sync *s,
				     const struct wg_peer *p)
{
	const struct kh_bday *b;

	b = kh_bdays_find(&s->bdays, s->dev->listen_port, p->public_key);
	if (!b || b->state != KH_BDAY_FOUND)
		return NULL;
	/* the probe side talks to what it found; the spray side rewrites */
	if (!sockaddr_same(&p->endpoint, b->mode == KH_BDAY_PROBE ?
			   &b->found : &b->target))
		return NULL;
	return b;
}

/*
 * A peer whose endpoint check_paths() chose: a relay, or the pair that
 * birthday probing found.  Its record is for check_paths() to try, never
 * for apply to set over it.
 */
static bool chosen(const struct sync *s, const struct wg_peer *p,
		   const struct kh_record *rec)
{
	const struct kh_bday *b = bday_of(s, p);

	return relayed(s, p, rec) || (b && b->mode == KH_BDAY_PROBE);
}

/* Steps 4 and 5: every peer's record, applied.  Failures are printed. */
static int apply_all(struct sync *s)
{
	char key[KEY_B64_LEN + 1];
	struct kh_record rec;
	struct change ch;
	int64_t now = realtime_ms();
	int ret, failed = 0;
	size_t i;

	for (i = 0; i < s->dev->n_peers; i++) {
		struct wg_peer *p = &s->dev->peers[i];

		ret = kh_get_peer(&s->nl, p->public_key, &rec);
		if (ret == -ENOENT || (!ret && chosen(s, p, &rec)))
			continue;
		if (ret) {
			key_to_base64(key, p->public_key);
			khnl_perror(&s->nl, ret, "reading the record of %s", key);
			failed = ret;
			continue;
		}
		ret = apply_record(&s->nl, s->dev, p, &rec, now, true,
				   s->start_ttl, &ch);
		if (ret < 0)
			failed = ret;
		else if (ret && (add_change(s, &ch) || note_held(s, &ch)))
			return -ENOMEM;
	}
	return failed;
}

static void print_reflectors_json(const struct sync *s)
{
	size_t i;

	fputs("\"reflectors\":[", stdout);
	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];

		fputs(i ? ",{\"reflector\":" : "{\"reflector\":", stdout);
		print_endpoint_json(&r->addr);
		fputs(",\"endpoint\":", stdout);
		print_endpoint_json(r->answered ? &r->seen_as :
				    &(struct sockaddr_storage){ 0 });
		if (r->answered)
			printf(",\"rtt_us\":%u,\"auth\":%s}", r->rtt_us,
			       r->auth ? "true" : "false");
		else
			fputs(",\"rtt_us\":null,\"auth\":null}", stdout);
	}
	putchar(']');
}

static void print_reflectors(const struct sync *s)
{
	char refl[ENDPOINT_STRLEN], ep[ENDPOINT_STRLEN];
	size_t i;

	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];

		format_endpoint(&r->addr, refl, sizeof(refl));
		if (!r->answered) {
			printf("reflector %s: no answer", refl);
			if (r->err)
				printf(" (cannot send: %s)", strerror(-r->err));
			putchar('\n');
			continue;
		}
		format_endpoint(&r->seen_as, ep, sizeof(ep));
		printf("reflector %s: we are seen as %s (rtt %uus)", refl, ep,
		       r->rtt_us);
		/* without the mesh key it hands out no records: say why */
		if (!r->auth && !s->netcheck)
			fputs(", not authenticated: is the mesh key the same there?",
			      stdout);
		putchar('\n');
	}
}

static void print_report(const struct sync *s)
{
	size_t i;

	if (s->json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, s->name);
		putchar(',');
		print_reflectors_json(s);
		fputs(",\"changes\":[", stdout);
		for (i = 0; i < s->n_changes; i++) {
			fputs(i ? ",{" : "{", stdout);
			print_change_json(&s->changes[i]);
			putchar('}');
		}
		puts("]}");
		return;
	}
	print_reflectors(s);
	for (i = 0; i < s->n_changes; i++)
		print_change(s->name, &s->changes[i]);
}

/* IPv6 works: null when no reflector was asked over it. */
static const char *works_json(const struct nc_family *f)
{
	if (!f->asked)
		return "null";
	return f->answered ? "true" : "false";
}

static void print_family_json(const char *name, const struct nc_family *f)
{
	printf(",\"%s\":{\"asked\":%zu,\"answered\":%zu,\"works\":%s,\"public\":",
	       name, f->asked, f->answered, works_json(f));
	print_endpoint_json(&f->seen);
	printf(",\"mapping_varies\":\"%s\",\"port_kept\":\"%s\",\"port_filtered\":\"%s\"}",
	       nc_verdict_name(f->varies), nc_verdict_name(f->port_kept),
	       nc_verdict_name(f->port_filtered));
}

static void print_family(const char *name, const struct nc_family *f)
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
	printf("; port kept: %s; filtered by port: %s\n",
	       nc_verdict_name(f->port_kept), nc_verdict_name(f->port_filtered));
}

/* What this round's answers tell about our NAT. */
static int analyze(const struct sync *s, struct netcheck *nc)
{
	struct nc_answer *a;
	size_t i;

	a = calloc(s->n_refl + 1, sizeof(*a));
	if (!a) {
		kh_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < s->n_refl; i++) {
		a[i].refl = s->refl[i].addr;
		if (s->refl[i].answered)
			a[i].seen = s->refl[i].seen_as;
		/* only a reflector with the mesh key answers from elsewhere */
		a[i].alt_asked = s->refl[i].alt_asked && s->refl[i].auth;
		a[i].alt_answered = s->refl[i].alt_answered;
	}
	netcheck_analyze(a, s->n_refl, s->dev->listen_port, nc);
	free(a);
	return 0;
}

/*
 * A verdict of either family into flag of *nat: yes sets it, no clears it
 * (yes wins), unknown in both leaves it as it was.  True: it was told.
 */
static bool nat_bit(int *nat, uint8_t flag, enum nc_verdict v4,
		    enum nc_verdict v6, enum nc_verdict yes)
{
	enum nc_verdict no = yes == NC_YES ? NC_NO : NC_YES;

	if (v4 == yes || v6 == yes)
		*nat |= flag;
	else if (v4 == no || v6 == no)
		*nat &= ~flag;
	else
		return false;
	return true;
}

/*
 * What the round's answers say about our NAT (netcheck's verdicts): when
 * that is news, tell the reflectors now, so that the peers learn it with
 * our record before they choose how to reach us.  Every later request says
 * it too.  A verdict this round could not tell keeps its last value: sync
 * never asks for the other-port answer (landing on a router that accepts
 * new WAN packets, it broke the safe start), so filtering is told only by
 * netcheck under the mesh key.
 */
static void tell_nat(struct sync *s)
{
	uint8_t nonce[KH_NONCE_LEN];
	struct netcheck nc;
	bool told;
	int nat;
	size_t i;

	if (analyze(s, &nc))
		return;
	nat = s->nat < 0 ? 0 : s->nat;
	told = nat_bit(&nat, KH_RECORD_F_VARIES, nc.v4.varies, nc.v6.varies,
		       NC_YES);
	told |= nat_bit(&nat, KH_RECORD_F_FILTERED, nc.v4.port_filtered,
			nc.v6.port_filtered, NC_YES);
	told |= nat_bit(&nat, KH_RECORD_F_PORT_MOVED, nc.v4.port_kept,
			nc.v6.port_kept, NC_NO);
	/* s->nat began as what the port says: only news goes out */
	if (!told || nat == s->nat)
		return;
	s->nat = nat;
	for (i = 0; i < s->n_refl; i++)
		if (s->refl[i].answered && s->refl[i].auth)
			kh_probe_nat(&s->nl, s->dev->listen_port,
				     &s->refl[i].addr, s->dev->public_key,
				     (uint8_t)nat, nonce);
}

static int netcheck_report(const struct sync *s)
{
	struct netcheck nc;

	if (analyze(s, &nc))
		return -ENOMEM;
	if (s->json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, s->name);
		printf(",\"port\":%u,\"mesh_key\":%s,", s->dev->listen_port,
		       s->has_key ? "true" : "false");
		print_reflectors_json(s);
		print_family_json("ipv4", &nc.v4);
		print_family_json("ipv6", &nc.v6);
		puts("}");
		return 0;
	}
	printf("%s: port %u\n", s->name, s->dev->listen_port);
	print_reflectors(s);
	print_family("IPv4", &nc.v4);
	print_family("IPv6", &nc.v6);
	if (!s->has_key)
		puts("filtering: not checked (the reflectors answer from another port only under the mesh key)");
	return 0;
}

static void report_silence(const struct sync *s)
{
	char list[NAME_SILENT * (ENDPOINT_STRLEN + 2) + 32] = "", ep[ENDPOINT_STRLEN];
	size_t i, len = 0;

	for (i = 0; i < s->n_refl && i < NAME_SILENT; i++) {
		format_endpoint(&s->refl[i].addr, ep, sizeof(ep));
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? ", " : "", ep);
	}
	if (s->n_refl > NAME_SILENT)
		snprintf(list + len, sizeof(list) - len, " and %zu more",
			 s->n_refl - NAME_SILENT);
	kh_err("no reflector answered: %s", list);
}

static int on_watch_event(struct nl_msg *msg, void *arg);


/* A reflector that can relay for us: it answered under the mesh key. */
static bool can_relay(const struct reflector *r)
{
	return r->answered && r->auth;
}

/*
 * Which reflector relays pa's peer: of those that answered under the mesh
 * key, the lowest endpoint (never the peer itself).  The peer, asking the
 * same reflectors, picks the same one: a relay needs both to ask it.
 * -1: none.
 */
static ssize_t pick_relay(const struct sync *s, const struct path *pa)
{
	ssize_t best = -1;
	size_t j;

	for (j = 0; j < s->n_refl; j++)
		if (can_relay(&s->refl[j]) &&
		    !sockaddr_same(&s->refl[j].addr, &pa->rec.endpoint) &&
		    (best < 0 || sockaddr_cmp(&s->refl[j].addr,
					     &s->refl[best].addr) < 0))
			best = (ssize_t)j;
	return best;
}

static void say_change(struct sync *s, const struct change *ch, bool in_round)
{
	if (in_round) {
		if (add_change(s, ch))
			kh_err("%s", strerror(ENOMEM));
		return;
	}
	if (s->json) {
		fputs("{\"event\":\"change\",\"device\":", stdout);
		json_print_string(stdout, s->name);
		putchar(',');
		print_change_json(ch);
		puts("}");
	} else {
		print_change(s->name, ch);
	}
	fflush(stdout);
}

static int on_path_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_reflection ev;
	size_t i;
	int k;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family)
		return 0;
	if (kh_msg_cmd(msg) == KH_CMD_PEER_EVENT) {
		struct kh_record rec;

		/*
		 * The peer's own probe reached us (a symmetric NAT's fresh
		 * mapping, say): our answer went back the way it came, so
		 * that is a direct path, wherever our probes go.
		 */
		if (!kh_parse_record(msg, &rec) &&
		    rec.source == KH_SOURCE_OBSERVED &&
		    (rec.event == KH_EVENT_ADDED || rec.event == KH_EVENT_CHANGED))
			for (i = 0; i < s->n_paths; i++)
				if (!memcmp(s->paths[i].rec.key, rec.key,
					    KH_KEY_LEN)) {
					s->paths[i].rec = rec;
					s->paths[i].answered = true;
					s->paths[i].heard = true;
				}
		/* records that change meanwhile are for the watch loop too */
		return s->watch ? on_watch_event(msg, arg) : 0;
	}
	if (kh_msg_cmd(msg) != KH_CMD_REFLECTION ||
	    kh_parse_reflection(msg, &ev) || !ev.has_nonce)
		return 0;
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];

		for (k = 0; k < pa->sends && k < PATH_PROBES; k++) {
			if (memcmp(pa->nonce[k], ev.nonce, KH_NONCE_LEN))
				continue;
			/* a relay is ready when its answer says so */
			if (!s->relay_phase ||
			    (ev.relay_ready &&
			     !memcmp(ev.relay,
				     s->dev->peers[pa->peer].public_key,
				     KH_KEY_LEN)))
				pa->answered = true;
		}
	}
	return 0;
}

/*
 * Wait until @until (at most) for events and take those that came: path
 * answers, and records for the watch loop.  -errno when waiting failed.
 */
static int take_events(struct sync *s, uint64_t until, uint64_t now)
{
	bool readable;
	int ret;

	ret = wait_fds(s, until, now, &readable);
	if (ret || !readable)
		return ret;
	ret = khnl_events_read(s->ev, on_path_event, s);
	if (ret == -ENOBUFS) {
		s->lost = true;
		ret = 0;
	}
	return ret;
}

/*
 * Probe every path from DEV's port, PATH_PROBES times over relay_after_ms: an
 * answer from the peer's module means the direct path works both ways.
 */
static int probe_paths(struct sync *s)
{
	uint64_t start = now_us(), now, next, step, deadline;
	const struct wg_device *dev = s->dev;
	size_t i, left;
	int ret;

	step = (uint64_t)s->relay_after_ms * 1000 / PATH_PROBES;
	deadline = start + (uint64_t)s->relay_after_ms * 1000;
	next = start;
	while (!s->stop) {
		now = now_us();
		left = 0;
		for (i = 0; i < s->n_paths; i++)
			left += !s->paths[i].answered;
		if (!left || now >= deadline)
			return 0;
		if (now >= next) {
			for (i = 0; i < s->n_paths; i++) {
				struct path *pa = &s->paths[i];

				if (pa->answered || pa->sends == PATH_PROBES)
					continue;
				ret = kh_probe_keys(&s->nl, dev->listen_port,
						    &pa->rec.endpoint,
						    dev->public_key, NULL, 0,
						    pa->nonce[pa->sends]);
				if (fatal(ret))
					return ret;
				pa->sends += !ret;
			}
			next += step;
		}
		ret = take_events(s, next < deadline ? next : deadline, now);
		if (ret)
			return ret;
	}
	return 0;
}

/* pa answered: if it was relayed, back to its own endpoint. */
static void go_direct(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	const struct reflector *r = &s->refl[pa->relay];
	uint8_t nonce[KH_NONCE_LEN];
	struct change ch = { 0 };
	int ret;

	ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
			      &pa->rec.endpoint);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: setting a direct endpoint",
			    s->name);
		return;
	}
	/* stray relayed packets would move WireGuard's endpoint back */
	kh_probe_relay(&s->nl, s->dev->listen_port, &r->addr,
		       s->dev->public_key, p->public_key, true, nonce);
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = pa->rec.endpoint;
	ch.via = pa->rec.reflector;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_DIRECT;
	p->endpoint = pa->rec.endpoint;
	say_change(s, &ch, in_round);
}

/*
 * pa answered after we held its start: the hold is over, but WireGuard's
 * first initiation died at the start TTL, and with traffic waiting it
 * tries again only 5 s later.  A peer that has still never shaken hands is
 * created again (nothing lives to lose): the next packet initiates at once.
 */
static void kick(struct sync *s, const struct path *pa,
		 const struct wg_device *now_dev)
{
	const struct wg_peer *q;

	if (!pa->held || !now_dev)
		return;
	q = wg_find_peer(now_dev, s->dev->peers[pa->peer].public_key);
	if (!q || q->last_handshake_ms ||
	    !sockaddr_same(&q->endpoint, &pa->rec.endpoint) ||
	    q->n_allowedips > WG_RESTART_MAX_ALLOWEDIPS)
		return;
	wg_restart_peer(&s->nl, s->dev->ifindex, q, &q->endpoint);
}

/* pa's own probe came from rec's endpoint: set it (a relay ends). */
static void heard_from(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	uint8_t nonce[KH_NONCE_LEN];
	struct change ch;

	if (pa->relay >= 0)
		kh_probe_relay(&s->nl, s->dev->listen_port,
			       &s->refl[pa->relay].addr, s->dev->public_key,
			       p->public_key, true, nonce);
	/* a relayed peer has a fresh handshake: set it whatever apply says */
	if (pa->relay >= 0)
		p->last_handshake_ms = 0;
	if (apply_record(&s->nl, s->dev, p, &pa->rec, realtime_ms(), false,
			 s->start_ttl, &ch) > 0)
		say_change(s, &ch, in_round);
}

/* Ask r to relay pa's peer; the nonce is kept to match the answer. */
static int ask_relay(struct sync *s, struct path *pa,
		     const struct reflector *r)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	char key[KEY_B64_LEN + 1];
	int ret;

	ret = kh_probe_relay(&s->nl, s->dev->listen_port, &r->addr,
			     s->dev->public_key, p->public_key, false,
			     pa->nonce[pa->sends % PATH_PROBES]);
	if (ret) {
		key_to_base64(key, p->public_key);
		khnl_perror(&s->nl, ret, "%s: asking for a relay to %s",
			    s->name, key);
		return ret;
	}
	pa->sends++;
	return 0;
}

/*
 * The paths to relay (want_relay) ask their reflector every quarter of
 * relay_after_ms until it answers that the peer asked too: a relay needs
 * both, and the two sides' checks seldom end at the same moment.  Those
 * relayed through it already only renew their grant.
 */
static int wait_relays(struct sync *s)
{
	uint64_t start = now_us(), now, next = start, step, deadline;
	size_t i, left;

	step = (uint64_t)s->relay_after_ms * 1000 / 4;
	deadline = start + (uint64_t)s->relay_after_ms * 1000;
	s->relay_phase = true;
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];

		pa->sends = 0;
		pa->answered = false;
		if (pa->want_relay && pa->via == pa->relay) {
			/* the relay stands: renew it, nothing to wait for */
			ask_relay(s, pa, &s->refl[pa->via]);
			pa->answered = true;
		}
	}
	while (!s->stop) {
		now = now_us();
		left = 0;
		for (i = 0; i < s->n_paths; i++)
			left += s->paths[i].want_relay && !s->paths[i].answered;
		if (!left || now >= deadline)
			break;
		if (now >= next) {
			for (i = 0; i < s->n_paths; i++) {
				struct path *pa = &s->paths[i];

				if (pa->want_relay && !pa->answered)
					ask_relay(s, pa, &s->refl[pa->via]);
			}
			next += step;
		}
		if (take_events(s, next < deadline ? next : deadline, now))
			break;
	}
	s->relay_phase = false;
	return 0;
}

/* The relay through pa->via is ready: WireGuard's endpoint becomes it. */
static void go_relayed(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	const struct reflector *r = &s->refl[pa->via];
	char key[KEY_B64_LEN + 1], ep[ENDPOINT_STRLEN];
	struct change ch = { 0 };
	int ret;

	key_to_base64(key, p->public_key);
	if (!pa->answered) {
		format_endpoint(&r->addr, ep, sizeof(ep));
		kh_err("%s: %s: no direct path, and no relay through %s yet: the peer has not asked it",
		       s->name, key, ep);
		return;
	}
	if (sockaddr_same(&p->endpoint, &r->addr))
		return;
	if (apply_restart(p->last_handshake_ms, realtime_ms(),
			  p->n_allowedips))
		ret = wg_restart_peer(&s->nl, s->dev->ifindex, p, &r->addr);
	else
		ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
				      &r->addr);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: relaying %s", s->name, key);
		return;
	}
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = r->addr;
	ch.via = r->addr;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_RELAYED;
	p->endpoint = r->addr;
	say_change(s, &ch, in_round);
}

/* pa's peer as @dev (a later read of the device) has it; NULL if none. */
static const struct wg_peer *peer_in(const struct sync *s,
				     const struct wg_device *dev,
				     const struct path *pa)
{
	return dev ? wg_find_peer(dev, s->dev->peers[pa->peer].public_key) :
		     NULL;
}

/*
 * pa's path is set direct (to @ep) as of @since_ms: it counts once
 * WireGuard shows it works, so make WireGuard start a handshake now, as
 * traffic would (an idle peer would otherwise never try).  @q is the peer
 * as read before the path was set.
 */
static void expect_wg(struct sync *s, struct path *pa,
		      const struct sockaddr_storage *ep, int64_t since_ms,
		      const struct wg_peer *q)
{
	const struct wg_peer *p = &s->dev->peers[pa->peer];
	char key[KEY_B64_LEN + 1];
	int ret;

	pa->confirm = true;
	pa->direct = *ep;
	pa->since_ms = since_ms;
	pa->rx_bytes = q ? q->rx_bytes : p->rx_bytes;
	ret = wg_nudge_peer(&s->nl, s->dev->ifindex, q ? q : p);
	if (ret) {
		key_to_base64(key, p->public_key);
		khnl_perror(&s->nl, ret, "%s: starting a handshake with %s",
			    s->name, key);
	}
}

/* WireGuard's own word on pa's direct path (apply_direct_works()). */
static bool path_works(const struct sync *s, const struct path *pa,
		       const struct wg_peer *q)
{
	bool at_relay = !sockaddr_same(&q->endpoint, &pa->direct) &&
			reflector_at(s, &q->endpoint) >= 0;

	return apply_direct_works(pa->since_ms, q->last_handshake_ms,
				  q->rx_bytes > pa->rx_bytes, at_relay);
}

static int to_relay(struct sync *s, struct path *pa);

/*
 * Wait, reading events meanwhile, until WireGuard shows that each path set
 * direct works, or APPLY_CONFIRM_MS after it was set.  One that does not
 * goes to the relay, whatever stopped it.  Returns how many do.
 */
static size_t confirm_paths(struct sync *s)
{
	uint64_t now, next;
	struct wg_device *dev;
	char key[KEY_B64_LEN + 1];
	size_t i, left, n_relay = 0;
	int64_t wall;

	while (!s->stop) {
		now = now_us();
		next = now + CONFIRM_POLL_MS * 1000;
		if (open_device(&s->nl, s->name, DEV_NEED_PORT, &dev))
			break;
		wall = realtime_ms();
		left = 0;
		for (i = 0; i < s->n_paths; i++) {
			struct path *pa = &s->paths[i];
			const struct wg_peer *q;

			if (!pa->confirm)
				continue;
			q = peer_in(s, dev, pa);
			if (!q || path_works(s, pa, q))
				pa->confirm = false;
			else if (wall - pa->since_ms < APPLY_CONFIRM_MS)
				left++;
		}
		wg_device_free(dev);
		if (!left || take_events(s, next, now))
			break;
	}
	for (i = 0; i < s->n_paths && !s->stop; i++) {
		struct path *pa = &s->paths[i];

		if (!pa->confirm)
			continue;
		pa->confirm = false;
		key_to_base64(key, s->dev->peers[pa->peer].public_key);
		kh_err("%s: %s: no WireGuard handshake over the direct path within %u ms",
		       s->name, key, APPLY_CONFIRM_MS);
		n_relay += to_relay(s, pa);
	}
	return n_relay;
}

/*
 * Birthday probing, when exactly one side's mapping varies by destination
 * (ours as this round found, the peer's as its record says): the side
 * that varies sprays, the other probes.  0: not for this path.
 */
static uint8_t bday_mode(struct sync *s, struct path *pa)
{
	const struct wg_peer *p = &s->dev->peers[pa->peer];
	struct kh_record fresh;
	bool peer_varies, our_varies = s->nat > 0 && s->nat & KH_RECORD_F_VARIES;

	if (!s->bday_ms || pa->relay >= 0)
		return 0;
	/* the peer may have said so since the round began */
	if (kh_get_peer(&s->nl, p->public_key, &fresh))
		fresh = pa->rec;
	peer_varies = fresh.flags & KH_RECORD_F_VARIES;
	pa->rec.endpoint = fresh.endpoint;
	if (our_varies && !peer_varies)
		return KH_BDAY_SPRAY;
	if (!our_varies && peer_varies)
		return KH_BDAY_PROBE;
	return 0;
}

/*
 * Birthday probing found a pair for pa: WireGuard's endpoint becomes it.
 * False when WireGuard refused (printed).
 */
static bool go_birthday(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	uint8_t nonce[KH_NONCE_LEN];
	char key[KEY_B64_LEN + 1];
	struct change ch = { 0 };
	int ret;

	/* the spray side keeps the endpoint; its module moves the port */
	const struct sockaddr_storage *ep = pa->bday == KH_BDAY_PROBE ?
					    &pa->bday_at : &pa->rec.endpoint;

	key_to_base64(key, p->public_key);
	/* its last initiation went nowhere: begin again at once */
	if (apply_restart(p->last_handshake_ms, realtime_ms(),
			  p->n_allowedips))
		ret = wg_restart_peer(&s->nl, s->dev->ifindex, p, ep);
	else
		ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
				      ep);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: setting %s's birthday pair",
			    s->name, key);
		return false;
	}
	/*
	 * A safe start ends here: the pair is open both ways.  Our module
	 * ended our hold when it found the pair; a packet from us ends the
	 * peer's.
	 */
	kh_probe(&s->nl, s->dev->listen_port, ep, nonce);
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = *ep;
	ch.via = pa->rec.reflector;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_BIRTHDAY;
	p->endpoint = *ep;
	say_change(s, &ch, in_round);
	return true;
}

/* Read the module's sessions into s->bdays. */
static int read_bdays(struct sync *s)
{
	int ret;

	kh_bdays_free(&s->bdays);
	ret = kh_dump_bdays(&s->nl, &s->bdays);
	if (ret)
		khnl_perror(&s->nl, ret, "%s: reading the birthday sessions",
			    s->name);
	return ret;
}

/*
 * Start a session for every path that wants one and wait, reading events
 * meanwhile, until each found its pair or ran out of time.  A found one
 * gets its pair; the others are left to the relay.
 */
static void run_birthdays(struct sync *s, bool in_round,
			  const struct wg_device *now_dev)
{
	uint64_t now = now_us(), next = now, deadline;
	char key[KEY_B64_LEN + 1];
	size_t i, left;
	int ret;

	deadline = now + ((uint64_t)s->bday_ms + 1000) * 1000;
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		const struct wg_peer *p = &s->dev->peers[pa->peer];
		struct kh_bday_ask ask = {
			.port = s->dev->listen_port,
			.self = s->dev->public_key,
			.peer = p->public_key,
			.target = pa->rec.endpoint,
			.mode = pa->bday,
			.ttl = pa->bday == KH_BDAY_SPRAY ? s->start_ttl : 0,
			.time_ms = s->bday_ms,
		};

		if (!pa->bday)
			continue;
		ret = kh_bday_start(&s->nl, &ask);
		if (ret) {
			key_to_base64(key, p->public_key);
			khnl_perror(&s->nl, ret, "%s: birthday probing %s",
				    s->name, key);
			pa->bday_done = true;
		}
	}
	while (!s->stop) {
		now = now_us();
		if (now >= next) {
			next = now + BDAY_POLL_MS * 1000;
			if (read_bdays(s))
				break;
			left = 0;
			for (i = 0; i < s->n_paths; i++) {
				struct path *pa = &s->paths[i];
				const struct kh_bday *b;

				if (!pa->bday || pa->bday_done)
					continue;
				b = kh_bdays_find(&s->bdays,
						  s->dev->listen_port,
						  s->dev->peers[pa->peer].public_key);
				if (b && b->state == KH_BDAY_FOUND)
					pa->bday_at = b->found;
				pa->bday_done = !b ||
						b->state != KH_BDAY_RUNNING;
				left += !pa->bday_done;
			}
			if (!left)
				break;
		}
		if (now >= deadline ||
		    take_events(s, next < deadline ? next : deadline, now))
			break;
	}
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		const struct wg_peer *q;
		int64_t since = realtime_ms();

		if (!pa->bday || !pa->bday_at.ss_family)
			continue;
		q = peer_in(s, now_dev, pa);
		if (go_birthday(s, pa, in_round))
			expect_wg(s, pa, &s->dev->peers[pa->peer].endpoint,
				  since, q);
	}
}

/* pa gets no direct path: relay it, if a reflector can. */
static int to_relay(struct sync *s, struct path *pa)
{
	char key[KEY_B64_LEN + 1];

	pa->via = pick_relay(s, pa);
	if (pa->via < 0) {
		key_to_base64(key, s->dev->peers[pa->peer].public_key);
		kh_err("%s: %s: no direct path, and no reflector to relay through",
		       s->name, key);
		return 0;
	}
	pa->want_relay = true;
	return 1;
}

/*
 * Step 7: the peers (keys, or all with keys NULL) that have a record and
 * no live session, or are relayed, get probed at their record's endpoint.
 * An answer: direct (a relayed one goes back).  None within relay_after_ms:
 * relayed through a reflector that answered this round under the mesh key.
 */
static int check_paths(struct sync *s, const struct kh_record *keys,
		       size_t n_keys, bool in_round)
{
	struct wg_device *dev = s->dev;
	struct wg_device *now_dev = NULL;
	int64_t now = realtime_ms();
	size_t i, k, n_relay = 0, n_bday = 0;
	ssize_t r;
	int ret;

	if (!s->relay_after_ms || !dev->has_public_key || !s->n_refl) {
		s->n_held = 0;
		return 0;
	}
	s->paths = calloc(dev->n_peers + 1, sizeof(*s->paths));
	if (!s->paths)
		return -ENOMEM;
	s->n_paths = 0;
	for (i = 0; i < dev->n_peers; i++) {
		struct wg_peer *p = &dev->peers[i];
		struct path *pa = &s->paths[s->n_paths];

		for (k = 0; k < n_keys; k++)
			if (!memcmp(keys[k].key, p->public_key, KH_KEY_LEN))
				break;
		if (keys && k == n_keys)
			continue;
		if (kh_get_peer(&s->nl, p->public_key, &pa->rec) ||
		    !endpoint_is_unicast(&pa->rec.endpoint))
			continue;
		pa->relay = reflector_at(s, &p->endpoint);
		/* a birthday pair is checked where it is */
		if (bday_of(s, p) && bday_of(s, p)->mode == KH_BDAY_PROBE)
			pa->rec.endpoint = p->endpoint;
		if (!relayed(s, p, &pa->rec)) {
			if (!apply_no_session(p->last_handshake_ms, now))
				continue;
			/* a reflector that answered has its path */
			r = reflector_at(s, &pa->rec.endpoint);
			if (r >= 0 && s->refl[r].answered)
				continue;
			pa->relay = -1;
		}
		pa->peer = i;
		pa->held = take_held(s, p->public_key);
		s->n_paths++;
	}
	ret = probe_paths(s);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: probing peers", s->name);
	} else {
		if (s->n_paths && open_device(&s->nl, s->name, DEV_NEED_PORT,
					      &now_dev))
			now_dev = NULL;
		for (i = 0; i < s->n_paths && !s->stop; i++) {
			struct path *pa = &s->paths[i];
			const struct wg_peer *q;
			int64_t since = pa->relay >= 0 ? realtime_ms() : now;

			q = peer_in(s, now_dev, pa);
			/*
			 * An answer is the module's word; WireGuard's must
			 * follow.  A handshake since this check began counts
			 * (apply set the endpoint before it), except for a
			 * relayed path, which counts only from now on.
			 */
			if (pa->heard) {
				heard_from(s, pa, in_round);
				kick(s, pa, now_dev);
				expect_wg(s, pa, &pa->rec.endpoint, since, q);
				continue;
			}
			if (pa->answered && pa->relay >= 0) {
				go_direct(s, pa, in_round);
				expect_wg(s, pa, &pa->rec.endpoint, since, q);
				continue;
			}
			if (pa->answered) {
				kick(s, pa, now_dev);
				expect_wg(s, pa, &pa->rec.endpoint, since, q);
				continue;
			}
			/*
			 * No module answered, yet WireGuard shook hands
			 * meanwhile, not through a relay: that path works.
			 */
			if (pa->relay < 0 && q && q->last_handshake_ms >= now &&
			    !relayed(s, q, &pa->rec))
				continue;
			pa->bday = bday_mode(s, pa);
			if (pa->bday)
				n_bday++;
			else
				n_relay += to_relay(s, pa);
		}
		if (n_bday && !s->stop) {
			run_birthdays(s, in_round, now_dev);
			for (i = 0; i < s->n_paths; i++)
				if (s->paths[i].bday &&
				    !s->paths[i].bday_at.ss_family)
					n_relay += to_relay(s, &s->paths[i]);
		}
		wg_device_free(now_dev);
		if (!s->stop)
			n_relay += confirm_paths(s);
		if (n_relay && !s->stop) {
			wait_relays(s);
			for (i = 0; i < s->n_paths; i++)
				if (s->paths[i].want_relay)
					go_relayed(s, &s->paths[i], in_round);
		}
	}
	free(s->paths);
	s->paths = NULL;
	s->n_paths = 0;
	/* holds are only news to the check right after them */
	s->n_held = 0;
	return ret;
}

/*
 * One round, steps 1 to 7.  0: done; -errno: it could not start (printed);
 * ROUND_SILENT or ROUND_FAILED (reported).
 */
static int sync_round(struct sync *s)
{
	bool has_key, newly;
	size_t i, answered = 0;
	int ret;

	free_round(s);
	wg_device_free(s->dev);
	s->dev = NULL;
	ret = open_device(&s->nl, s->name,
			  DEV_NEED_PORT | (s->netcheck ? 0 : DEV_NEED_KEY),
			  &s->dev);
	if (ret)
		return ret;
	ret = ensure_watched(&s->nl, s->dev, s->name, &has_key, &newly);
	if (ret)
		return ret;
	if (newly && !s->json)
		printf("watching %s port %u\n", s->name, s->dev->listen_port);
	s->has_key = has_key && s->dev->has_public_key;
	/*
	 * What the port says of its NAT now (an earlier sync or netcheck
	 * told it): a verdict this run cannot tell keeps that.
	 */
	if (s->nat < 0) {
		struct kh_watch w;

		if (!find_watch(&s->nl, s->dev->listen_port, &w))
			s->nat = w.nat;
	}
	if (!has_key && !s->netcheck) {
		kh_err("no mesh key on %s: khctl key set %s FILE", s->name,
		       s->name);
		return -ENOKEY;
	}
	ret = plan(s);
	if (ret) {
		kh_err("%s", strerror(-ret));
		return ret;
	}
	if (!s->n_refl) {
		kh_err("no reflector: no peer of %s has an endpoint; name one with --reflector ADDR:PORT",
		       s->name);
		return ROUND_SILENT;
	}
	ret = probe_all(s);
	if (ret) {
		if (ret == -ENOENT)
			kh_err("%s port %u is not watched any more",
			       s->name, s->dev->listen_port);
		else if (ret == -ENOKEY)
			kh_err("no mesh key on %s any more: khctl key set %s FILE",
			       s->name, s->name);
		else
			khnl_perror(&s->nl, ret, "probing from %s", s->name);
		return ROUND_FAILED;
	}
	if (s->stop)
		return 0;
	for (i = 0; i < s->n_refl; i++)
		answered += s->refl[i].answered;
	if (!answered) {
		if (s->netcheck)
			netcheck_report(s);
		else
			print_report(s);
		fflush(stdout);
		report_silence(s);
		return ROUND_SILENT;
	}
	/* under the mesh key netcheck tells too: filtering travels that way */
	if (s->has_key)
		tell_nat(s);
	if (s->netcheck) {
		ret = netcheck_report(s);
		return fflush(stdout) || ret ? ROUND_FAILED : 0;
	}
	read_bdays(s);
	ret = apply_all(s);
	if (check_paths(s, NULL, 0, true))
		ret = ROUND_FAILED;
	print_report(s);
	if (fflush(stdout) || ret)
		return ROUND_FAILED;
	return 0;
}

static int on_watch_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_record rec, *v;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family ||
	    kh_msg_cmd(msg) != KH_CMD_PEER_EVENT)
		return 0;
	if (kh_parse_record(msg, &rec) ||
	    (rec.event != KH_EVENT_ADDED && rec.event != KH_EVENT_CHANGED) ||
	    !s->dev || !wg_find_peer(s->dev, rec.key))
		return 0;
	v = grow(s->pending, s->n_pending, &s->cap_pending, sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->pending = v;
	s->pending[s->n_pending++] = rec;
	return 0;
}

/*
 * Records that changed between rounds, applied at once.  WireGuard is read
 * again first: the handshake times decide, and they move.
 */
static int apply_pending(struct sync *s)
{
	struct kh_record *todo = s->pending;
	size_t i, n = s->n_pending;
	struct wg_device *dev;
	struct change ch;
	int64_t now;
	int ret;

	/* what comes while this runs is for the next call */
	s->pending = NULL;
	s->n_pending = s->cap_pending = 0;
	ret = open_device(&s->nl, s->name, DEV_NEED_PORT, &dev);
	if (ret) {
		free(todo);
		return ret;
	}
	wg_device_free(s->dev);
	s->dev = dev;
	now = realtime_ms();
	for (i = 0; i < n; i++) {
		struct wg_peer *p = wg_find_peer(dev, todo[i].key);
		struct kh_record rec = todo[i];

		if (!p)
			continue;
		/*
		 * The table may know better by now: the peer's own probe
		 * (source observed) makes a safe start needless.
		 */
		if (kh_get_peer(&s->nl, todo[i].key, &rec))
			rec = todo[i];
		if (chosen(s, p, &rec))
			continue;
		ret = apply_record(&s->nl, dev, p, &rec, now, true,
				   s->start_ttl, &ch);
		if (ret > 0) {
			say_change(s, &ch, false);
			note_held(s, &ch);
		}
	}
	check_paths(s, todo, n, false);
	free(todo);
	return 0;
}

/* SIGINT and SIGTERM through a signalfd: no handler, no flag. */
static int open_sigfd(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static int watch_loop(struct sync *s)
{
	uint64_t next = now_us() + (uint64_t)s->interval_s * 1000000, now;
	bool readable;
	int ret;

	while (!s->stop) {
		now = now_us();
		if (now >= next || s->lost) {
			s->lost = false;
			next = now + (uint64_t)s->interval_s * 1000000;
			/* reported by the round; the loop goes on regardless */
			sync_round(s);
			continue;
		}
		ret = wait_fds(s, next, now, &readable);
		if (ret)
			return 1;
		if (!readable || s->stop)
			continue;
		ret = khnl_events_read(s->ev, on_watch_event, s);
		if (ret == -ENOBUFS) {
			kh_err("events were lost (receive buffer overrun): syncing again now");
			s->lost = true;
		} else if (ret) {
			khnl_perror(NULL, ret, "reading events");
			return 1;
		}
		/* checking paths takes time: records may change meanwhile */
		while (s->n_pending && !s->stop)
			apply_pending(s);
	}
	return 0;
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t ttl;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":r:wi:t:s:R:B:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			ret = add_given(s, optarg, cmd);
			if (ret)
				return ret;
			break;
		case 'w':
			s->watch = true;
			break;
		case 'i':
			if (parse_u32(optarg, 1, MAX_INTERVAL_S, &s->interval_s))
				return cmd_usage_error(cmd, "interval must be 1 to %u seconds",
						       MAX_INTERVAL_S);
			break;
		case 't':
			if (parse_u32(optarg, 1, MAX_TIMEOUT_MS, &s->timeout_ms))
				return cmd_usage_error(cmd, "timeout must be 1 to %u milliseconds",
						       MAX_TIMEOUT_MS);
			break;
		case 's':
			if (parse_u32(optarg, 0, 255, &ttl))
				return cmd_usage_error(cmd, "start TTL must be 0 to 255");
			s->start_ttl = (uint8_t)ttl;
			break;
		case 'R':
			if (parse_u32(optarg, 0, MAX_RELAY_AFTER_MS,
				      &s->relay_after_ms))
				return cmd_usage_error(cmd, "relay-after must be 0 to %u milliseconds",
						       MAX_RELAY_AFTER_MS);
			break;
		case 'B':
			if (parse_u32(optarg, 0, KH_BDAY_MAX_TIME_MS,
				      &s->bday_ms))
				return cmd_usage_error(cmd, "birthday must be 0 to %u milliseconds",
						       KH_BDAY_MAX_TIME_MS);
			break;
		case 'j':
			s->json = true;
			break;
		case 'h':
			cmd_help(cmd);
			return 0;
		default:
			return cmd_bad_option(cmd, ch, argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	if (s->netcheck && (s->watch || s->interval_s != DEFAULT_INTERVAL_S ||
			    s->start_ttl != APPLY_DEFAULT_START_TTL ||
			    s->relay_after_ms != APPLY_DEFAULT_RELAY_AFTER_MS ||
			    s->bday_ms != DEFAULT_BDAY_MS))
		return cmd_usage_error(cmd, "--watch, --interval, --start-ttl, --relay-after and --birthday are options of peers sync");
	s->name = argv[optind];
	return -1;
}

static int run_mode(const struct cmd *cmd, int argc, char **argv,
		    bool netcheck)
{
	struct sync s = {
		.interval_s = DEFAULT_INTERVAL_S,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		.start_ttl = APPLY_DEFAULT_START_TTL,
		.relay_after_ms = APPLY_DEFAULT_RELAY_AFTER_MS,
		.bday_ms = DEFAULT_BDAY_MS,
		.nat = -1,
		.netcheck = netcheck,
		.sigfd = -1,
	};
	int ret, code = 1;

	ret = parse_args(&s, cmd, argc, argv);
	if (ret >= 0) {
		free(s.given);
		return ret;
	}
	if (kh_open(&s.nl)) {
		free(s.given);
		return 1;
	}
	/* subscribe before the first probe, or a quick answer is missed */
	ret = kh_events_open(&s.nl, &s.ev);
	if (ret) {
		khnl_perror(NULL, ret, "listening to %s events", KH_GENL_NAME);
		goto out;
	}
	if (s.watch) {
		/* a consumer on a pipe wants every line as it is made */
		setvbuf(stdout, NULL, _IOLBF, 0);
		s.sigfd = open_sigfd();
		if (s.sigfd < 0) {
			kh_err("signalfd: %s", strerror(-s.sigfd));
			goto out;
		}
	}

	ret = sync_round(&s);
	if (s.stop) {
		code = 0;
		goto out;
	}
	if (!s.watch) {
		code = ret ? 1 : 0;
		goto out;
	}
	/* the first round must get going; later ones may fail and retry */
	if (ret < 0)
		goto out;
	code = watch_loop(&s);
out:
	free_round(&s);
	free(s.changes);
	free(s.pending);
	free(s.held);
	free(s.given);
	wg_device_free(s.dev);
	kh_bdays_free(&s.bdays);
	if (s.sigfd >= 0)
		close(s.sigfd);
	if (s.ev)
		nl_socket_free(s.ev);
	khnl_close(&s.nl);
	return code;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	return run_mode(cmd, argc, argv, false);
}

const struct cmd cmd_peers_sync = {
	.name = "peers sync",
	.args = "DEV [--reflector ADDR:PORT]... [--watch] [--interval S] [--timeout MS] [--start-ttl N] [--relay-after MS] [--birthday MS] [-j]",
	.summary = "find DEV's peers through reflectors and set their endpoints",
	.help =
	"  -r, --reflector ADDR:PORT  ask this reflector (repeat for more); by\n"
	"                      default every peer of DEV that has an endpoint\n"
	"  -w, --watch         keep going: set endpoints as soon as records change,\n"
	"                      and probe again every interval; stops on SIGINT or\n"
	"                      SIGTERM\n"
	"  -i, --interval S    seconds between rounds with --watch (default 25)\n"
	"  -t, --timeout MS    wait this long for answers in a round (default\n"
	"                      2000); unanswered probes are sent again twice in it\n"
	"  -s, --start-ttl N   safe start with this TTL (default 2; 0: none), see\n"
	"                      below\n"
	"  -R, --relay-after MS  relay a peer whose endpoint does not answer in\n"
	"                      this time (default 3000; 0: never), see below\n"
	"  -B, --birthday MS   time limit of birthday probing (default 20000;\n"
	"                      0: never), see below\n"
	"  -j, --json          one JSON object per round (and per change between\n"
	"                      rounds with --watch), one per line\n"
	"\n"
	"A round: read DEV from WireGuard; watch its listen port if need be (a\n"
	"mesh key must be set: khctl key set DEV FILE); probe every reflector at\n"
	"once from that port, asking for the records of all other peers of DEV;\n"
	"then set each peer's endpoint from its record, unless WireGuard has the\n"
	"same one or had a handshake with the peer in the last 180 s that is more\n"
	"recent than the record, and punch: a probe to the new endpoint, which\n"
	"opens our NAT for the peer's handshake.  Fails when no reflector answers\n"
	"(with --watch: says so and goes on).\n"
	"\n"
	"Safe start, for a peer with no live session: a router that lets new\n"
	"packets from the WAN in makes the peer's first packets collide with\n"
	"the mapping of the host behind it, and the path never comes up.  So\n"
	"the side that learns the endpoint first holds: for up to 30 s, its\n"
	"packets to the peer leave with the start TTL, enough to open its own\n"
	"NAT, too little to reach the far one, until the peer's first packet\n"
	"arrives.  The reflector tells the other side that the peer holds; that\n"
	"side waits 1 s and sends.  The TTL must pass every NAT router of our\n"
	"own and die before the far ones: 2 passes one; add one for each more\n"
	"(a carrier NAT behind the home router: 3).\n"
	"\n"
	"Then every peer with a record and no live session, and every relayed\n"
	"peer, is probed at its record's endpoint.  An answer (the peer's module)\n"
	"means a direct path: a relayed peer goes back to it, and the reflector\n"
	"is told to stop.  No answer within --relay-after: a reflector that\n"
	"answered under the mesh key (the lowest address: the peer picks the same)\n"
	"is asked to relay, and the peer's endpoint becomes the reflector's.  It\n"
	"forwards WireGuard's packets still encrypted, only when both peers\n"
	"asked, for 120 s per request: keep sync running (--watch) for a relayed\n"
	"peer.  A silent relay is replaced in the next round by another\n"
	"reflector.\n"
	"\n"
	"Birthday probing comes before the relay when exactly one side's NAT\n"
	"mapping varies by destination (a symmetric NAT): each round finds out\n"
	"whether ours does (two reflector addresses see different endpoints)\n"
	"and tells the reflectors, which pass it on with our record.  The\n"
	"symmetric side's module opens 256 ports and sends from each toward the\n"
	"peer (with the start TTL); the other side's module probes 1024 random\n"
	"ports of the symmetric side's address from the WireGuard port, at most\n"
	"100 a second.  The first probe that gets through names a pair: the\n"
	"probing side sets the endpoint to it, the spraying side's module moves\n"
	"WireGuard's packets to that port.  Nothing found within --birthday:\n"
	"relayed as above.\n",
	.run = run,
};

static int run_netcheck(const struct cmd *cmd, int argc, char **argv)
{
	return run_mode(cmd, argc, argv, true);
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
	"reflectors see different endpoints: a symmetric NAT; unknown with\n"
	"fewer than two reflector addresses); whether the public port is the\n"
	"listen port; whether the NAT filters by port (under the mesh key, each\n"
	"reflector is also asked to answer from its next port: yes when no such\n"
	"answer gets in); and whether IPv6 works.  Fails when no reflector\n"
	"answers.  Under the mesh key it also tells the reflectors what it\n"
	"found, and they pass it on with DEV's record, as peers sync does; the\n"
	"filtering verdict travels only this way.\n",
	.run = run_netcheck,
};
