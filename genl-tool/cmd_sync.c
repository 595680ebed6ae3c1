// SPDX-License-Identifier: GPL-2.0
/*
 * khctl peers sync DEV: ask reflectors where DEV's peers are, all at once,
 * and set what they say in WireGuard; --watch keeps at it and acts on
 * every record event as it comes.  Here: a round in its order, the watch
 * loop, and the command; the steps are in the files sync.h names.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "device.h"
#include "netwatch.h"
#include "sync.h"
#include "util.h"

/*
 * A round that no reflector answered (probed: some were asked): what the
 * cache kept is set, and said; live sessions still tell where peers are.
 */
static int silent_round(struct sync *s, bool probed)
{
	apply_cache(s);
	keep_cache(s);
	if (probed || s->n_changes)
		print_report(s);
	fflush(stdout);
	if (probed)
		report_silence(s);
	return ROUND_SILENT;
}

/*
 * One round: probe the reflectors, tell them of our NAT, apply the
 * records, check the paths, keep what came of it, report.  0: done;
 * -errno: it could not start (printed); ROUND_SILENT or ROUND_FAILED
 * (reported).
 */
static int sync_round(struct sync *s)
{
	int ret;

	ret = round_probe(s);
	if (ret == ROUND_SILENT || (!ret && !s->stop && !round_answered(s)))
		return silent_round(s, !ret);
	if (ret || s->stop)
		return ret;
	if (s->has_key)
		tell_nat(s);
	note_seen(s);
	read_bdays(s);
	s->applied_ms = realtime_ms();
	ret = apply_all(s);
	if (check_paths(s, NULL, 0, true))
		ret = ROUND_FAILED;
	find_ttl_ahead(s);
	keep_cache(s);
	print_report(s);
	if (fflush(stdout) || ret)
		return ROUND_FAILED;
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
	s->applied_ms = now;
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
				   start_ttl_for(s, p, &rec, now), &ch);
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
	uint64_t next = now_us() + (uint64_t)s->interval_s * 1000000, now, wake;
	bool readable;
	int ret;

	while (!s->stop) {
		bool moved;

		now = now_us();
		if (now >= s->live_next_us) {
			s->live_next_us = now + LIVE_POLL_MS * 1000ULL;
			live_poll(s);
			continue;
		}
		moved = s->net_at_us && now >= s->net_at_us;
		if (now >= next || s->lost || moved) {
			if (moved)
				say_network(s);
			s->lost = false;
			s->net_at_us = 0;
			next = now + (uint64_t)s->interval_s * 1000000;
			/* reported by the round; the loop goes on regardless */
			sync_round(s);
			continue;
		}
		wake = next < s->live_next_us ? next : s->live_next_us;
		if (s->net_at_us && s->net_at_us < wake)
			wake = s->net_at_us;
		ret = wait_fds(s, wake, now, &readable);
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
		save_cache(s);
	}
	return 0;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct sync s;
	int ret, code;

	sync_init(&s, false);
	code = sync_start(&s, cmd, argc, argv);
	if (code >= 0)
		return code;
	code = 1;
	if (s.watch) {
		/* a consumer on a pipe wants every line as it is made */
		setvbuf(stdout, NULL, _IOLBF, 0);
		s.sigfd = open_sigfd();
		if (s.sigfd < 0) {
			kh_err("signalfd: %s", strerror(-s.sigfd));
			goto out;
		}
		/* without it, the interval still comes: said, not fatal */
		s.netfd = netwatch_open();
		if (s.netfd < 0)
			kh_err("network events: %s; a network change waits for the next round",
			       strerror(-s.netfd));
	}
	ret = sync_round(&s);
	if (s.stop)
		code = 0;
	else if (!s.watch)
		code = ret ? 1 : 0;
	/* the first round must get going; later ones may fail and retry */
	else if (ret >= 0)
		code = watch_loop(&s);
out:
	sync_end(&s);
	return code;
}

const struct cmd cmd_peers_sync = {
	.name = "peers sync",
	.args = "DEV [--reflector ADDR:PORT]... [--watch] [--interval S] [--timeout MS] [--start-ttl N] [--relay-after MS] [--birthday MS] [--state-dir DIR] [--no-cache] [-j]",
	.summary = "find DEV's peers through reflectors and set their endpoints",
	.help =
	"  -r, --reflector ADDR:PORT  ask this reflector (repeat for more); by\n"
	"                      default every peer of DEV that has an endpoint\n"
	"  -w, --watch         keep going: set endpoints as soon as records change,\n"
	"                      probe again every interval, and at once when the\n"
	"                      network changes (a default route, a global\n"
	"                      address, a link up or down; not DEV's own), and\n"
	"                      check again a direct path that has stopped\n"
	"                      receiving (relayed if it does not answer; direct\n"
	"                      again after 60 s); stops on SIGINT or SIGTERM\n"
	"  -i, --interval S    seconds between rounds with --watch (default 25)\n"
	"  -t, --timeout MS    wait this long for answers in a round (default\n"
	"                      2000); unanswered probes are sent again twice in it\n"
	"  -s, --start-ttl N   safe start with this TTL (default: found, see\n"
	"                      below; 0: none)\n"
	"  -R, --relay-after MS  relay a peer whose endpoint does not answer in\n"
	"                      this time (default 3000; 0: never), see below\n"
	"  -B, --birthday MS   time limit of birthday probing (default 20000;\n"
	"                      0: never), see below\n"
	"  --state-dir DIR     keep the cache in DIR (default $KHCTL_STATE_DIR, else\n"
	"                      /var/lib/khctl), see below\n"
	"  --no-cache          neither read nor write the cache\n"
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
	"the side that learns the endpoint first holds: for up to 2 s, its\n"
	"packets to the peer leave with the start TTL, enough to open its own\n"
	"NATs, too little to reach the far one, until the peer's first packet\n"
	"arrives.  The reflector tells the other side that the peer holds; that\n"
	"side waits 1 s and sends.  The start TTL is found once per network:\n"
	"one UDP probe per TTL toward the reflector, and the routers' answers.\n"
	"The first router counts as ours, and so does each next one while all\n"
	"answer from private or shared addresses (a carrier NAT's inside), or\n"
	"one that answers from our public address.  The TTL passes them all\n"
	"(2 for a home router; 3 behind a carrier NAT).  A wrong guess costs the\n"
	"2 s: the hold ends and both sides send.\n"
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
	"whether ours does (two reflectors, or one reflector's port and the\n"
	"next one, see different endpoints) and tells the reflectors, which\n"
	"pass it on with our record.  The symmetric side's module opens 256\n"
	"ports and sends from each toward the peer (with the start TTL); the\n"
	"other side's module probes 2000 random\n"
	"ports of the symmetric side's address from the WireGuard port, at most\n"
	"100 a second.  The first probe that gets through names a pair: the\n"
	"probing side sets the endpoint to it, the spraying side's module moves\n"
	"WireGuard's packets to that port.  Nothing found within --birthday:\n"
	"relayed as above.\n"
	"\n"
	"The cache: what sync applies to a peer (its own endpoint when relayed)\n"
	"and where a live session is, in DIR/DEV.KEY.json (mode 0600), written\n"
	"only when that changes.  In a round that no reflector answers (after a\n"
	"reboot while they are gone), a peer without an endpoint, or at a silent\n"
	"reflector and without a live session, gets its cached endpoint, a punch\n"
	"and a handshake (\"cached\"); the peer does the same when it comes up.\n"
	"A file that is corrupt, truncated, of another key or of a newer khctl is\n"
	"said and ignored.\n",
	.run = run,
};
