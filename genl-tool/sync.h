/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside khctl peers sync (cmd_sync.c) and khctl netcheck (cmd_netcheck.c):
 * the state of a run, and what its files give each other.  sync.c starts
 * and ends a run.  In a round, round.c probes every reflector at once and
 * nat.c tells them what the answers say of our NAT; then, for sync,
 * sync_apply.c sets the records they hand out, path_check.c checks the
 * paths that need it (their states in path.h), and sync_report.c says
 * what came of it.  sync_cache.c keeps what was applied on disk, and sets
 * it in a round that no reflector answered.
 */
#ifndef KHCTL_SYNC_H
#define KHCTL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "apply.h"
#include "cache.h"
#include "cmd.h"
#include "kh.h"
#include "netcheck.h"
#include "path.h"
#include "reflector.h"
#include "wg.h"

#define PROBES			3	/* sends per probe, as khctl probe */

/* How a round ended, beyond 0 (all well) and -errno (could not start). */
#define ROUND_SILENT		1	/* no reflector, or none answered */
#define ROUND_FAILED		2	/* some step failed; printed */

/* One probe's worth of wants to one reflector, sent up to PROBES times. */
struct batch {
	size_t refl;
	size_t first, n;		/* positions in the reflector's wants */
	int sends;
	uint64_t next_us;
	bool done;			/* answered, or cannot be sent */
	bool alt;			/* netcheck: answer from another port */
	bool second;			/* a plain probe of the second port */
	size_t sent[PROBES];
};

struct sent {
	uint8_t nonce[KH_NONCE_LEN];
	size_t batch;
	uint64_t at_us;
	bool in_flight;
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
	bool start_ttl_given;		/* --start-ttl: none is found */
	uint32_t relay_after_ms;	/* 0: never relay */
	uint32_t bday_ms;		/* 0: no birthday probing */
	int nat;			/* KH_RECORD_F_NAT bits of our NAT,
					 * as told: -1 none yet
					 */
	struct kh_bdays bdays;		/* the module's sessions, this round */

	struct khnl nl;
	struct nl_sock *ev;
	int sigfd;
	int netfd;			/* --watch: rtnetlink (netwatch.c) */
	uint64_t net_at_us;		/* a network change: a round then */
	bool stop;
	struct wg_device *dev;		/* as read at the last round */

	/* one round's probing: round.c */
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

	/* a round's changes, and events between rounds: sync_apply.c */
	struct change *changes;
	size_t n_changes, cap_changes;
	struct kh_record *pending;
	size_t n_pending, cap_pending;
	bool lost;

	/* the paths being checked: path_check.c */
	struct path *paths;
	size_t n_paths;
	/* --watch: the direct paths' liveness (sync_live.c) */
	struct live {
		uint8_t key[KH_KEY_LEN];
		uint64_t tx, rx;
		int64_t hs;			/* last handshake, as last read */
		int64_t stalled_ms;		/* sending unanswered since; 0 */
		int64_t backoff_until_ms;	/* relayed: no direct before */
	} *live;
	size_t n_live, cap_live;
	uint64_t live_next_us;
	bool force_check;		/* check live sessions' paths too */

	/* endpoints that answered and carried no handshake: path_check.c */
	struct bad_cand {
		uint8_t key[KH_KEY_LEN];
		struct sockaddr_storage ep;
		int64_t until_ms;
	} *bad;
	size_t n_bad, cap_bad;
	/* peers whose start we held, until their path is checked */
	uint8_t (*held)[KH_KEY_LEN];
	size_t n_held, cap_held;
	/*
	 * When the records of this round (or of these events) were applied,
	 * before their paths are checked: a handshake since then counts.
	 */
	int64_t applied_ms;

	/*
	 * Per family (IPv4, IPv6): the first reflector that answered, what
	 * it saw of us, and the start TTL found toward it (0: not yet):
	 * sync_apply.c
	 */
	struct {
		struct sockaddr_storage refl, seen;
		uint8_t ttl;
	} found[2];

	/* what was applied, kept on disk: sync_cache.c */
	const char *state_dir;		/* NULL: no cache (--no-cache) */
	bool no_cache, state_dir_given;
	struct cache cache;
	bool cache_read, cache_dirty;
	int cache_err;			/* the last write's, said once */
};

/* sync.c: what both commands share */
uint64_t now_us(void);
void *grow(void *v, size_t n, size_t *cap, size_t size);
void sync_init(struct sync *s, bool netcheck);
int sync_start(struct sync *s, const struct cmd *cmd, int argc, char **argv);
void free_round(struct sync *s);
void sync_end(struct sync *s);
int wait_fds(struct sync *s, uint64_t until, uint64_t now, bool *readable);

/* round.c: one round's probing */
int round_probe(struct sync *s);
size_t round_answered(const struct sync *s);
bool round_fatal(int err);
ssize_t reflector_at(const struct sync *s,
		     const struct sockaddr_storage *addr);

/* nat.c: what the answers say of our NAT */
int round_analyze(const struct sync *s, struct netcheck *nc);
void tell_nat(struct sync *s);

/* sync_apply.c: records into WireGuard */
int add_change(struct sync *s, const struct change *ch);
int note_held(struct sync *s, const struct change *ch);
void note_seen(struct sync *s);
void find_ttl_ahead(struct sync *s);
uint8_t hold_ttl(struct sync *s, int family);
uint8_t start_ttl_for(struct sync *s, const struct wg_peer *p,
		      const struct kh_record *rec, int64_t now);
bool take_held(struct sync *s, const uint8_t *key);
bool relayed(const struct sync *s, const struct wg_peer *p,
	     const struct kh_record *rec);
const struct kh_bday *bday_of(const struct sync *s, const struct wg_peer *p);
bool chosen(const struct sync *s, const struct wg_peer *p,
	    const struct kh_record *rec);
int apply_all(struct sync *s);
int on_watch_event(struct nl_msg *msg, void *arg);

/* sync_cache.c: what was applied, on disk */
void apply_cache(struct sync *s);
void note_change(struct sync *s, const struct change *ch);
void keep_cache(struct sync *s);
void save_cache(struct sync *s);

/* sync_report.c: what a round says */
void print_reflectors_json(const struct sync *s);
void print_reflectors(const struct sync *s);
void print_report(const struct sync *s);
void report_silence(const struct sync *s);
void say_change(struct sync *s, const struct change *ch, bool in_round);
void say_network(const struct sync *s);

/* sync_live.c: direct paths that die, under --watch */
#define LIVE_POLL_MS		5000
#define LIVE_STALL_MS		20000
#define LIVE_BACKOFF_MS		60000
void live_poll(struct sync *s);
bool live_backing_off(struct sync *s, const uint8_t *key);

/* path_check.c: the path check, whose phases are the files below */
int check_paths(struct sync *s, const struct kh_record *keys, size_t n_keys,
		bool in_round);
void path_failed(struct sync *s, const uint8_t *key,
		 const struct sockaddr_storage *ep, int64_t ms);
bool path_bad(struct sync *s, const uint8_t *key,
	      const struct sockaddr_storage *ep);

/* path_probe.c: probing the paths, and the events meanwhile */
int probe_paths(struct sync *s);
int take_events(struct sync *s, uint64_t until, uint64_t now);
const struct wg_peer *peer_in(const struct sync *s,
			      const struct wg_device *dev,
			      const struct path *pa);

/* path_direct.c: a direct path set, and confirmed by WireGuard */
void heard_from(struct sync *s, struct path *pa, bool in_round);
void use_cand(struct sync *s, struct path *pa, bool in_round);
void go_direct(struct sync *s, struct path *pa, bool in_round);
void kick(struct sync *s, const struct path *pa,
	  const struct wg_device *now_dev);
void expect_wg(struct sync *s, struct path *pa,
	       const struct sockaddr_storage *ep, int64_t since_ms,
	       const struct wg_peer *q);
size_t confirm_paths(struct sync *s);

/* path_birthday.c: birthday probing */
uint8_t bday_mode(struct sync *s, struct path *pa);
int read_bdays(struct sync *s);
void run_birthdays(struct sync *s, bool in_round,
		   const struct wg_device *now_dev);

/* path_relay.c: the relay */
int to_relay(struct sync *s, struct path *pa);
void wait_relays(struct sync *s);
void go_relayed(struct sync *s, struct path *pa, bool in_round);

#endif
