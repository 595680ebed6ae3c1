// SPDX-License-Identifier: GPL-2.0
/*
 * Applying a peer endpoint record to WireGuard, for peers pull and sync:
 * the rule as a pure function, and the doing.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "util.h"

/* WireGuard's handshake times are wall-clock time: compare in the same. */
int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Should the record's endpoint replace WireGuard's?  Not if it is the same;
 * not if WireGuard completed a handshake within APPLY_FRESH_HANDSHAKE_MS
 * that is more recent than the record's last confirmation (now - age): the
 * peer reached us from where it is now, which beats an older report.  A
 * handshake "in the future" (the clock stepped back) counts as fresh.
 * handshake_ms 0: never.
 */
enum apply_verdict apply_decide(const struct sockaddr_storage *rec_ep,
				uint32_t rec_age_ms,
				const struct sockaddr_storage *wg_ep,
				int64_t handshake_ms, int64_t now_ms)
{
	int64_t confirmed_ms = now_ms - (int64_t)rec_age_ms;

	if (sockaddr_same(rec_ep, wg_ep))
		return APPLY_SAME;
	if (handshake_ms > 0 &&
	    now_ms - handshake_ms <= APPLY_FRESH_HANDSHAKE_MS &&
	    handshake_ms > confirmed_ms)
		return APPLY_HANDSHAKE;
	return APPLY_SET;
}

/*
 * No session can be alive with the peer: never a handshake, or none within
 * WireGuard's REJECT_AFTER_TIME (one "in the future" counts as alive).
 */
bool apply_no_session(int64_t handshake_ms, int64_t now_ms)
{
	return handshake_ms <= 0 ||
	       (now_ms >= handshake_ms &&
		now_ms - handshake_ms > APPLY_FRESH_HANDSHAKE_MS);
}

/*
 * Set the endpoint by creating the peer again (wg_restart_peer())?  Only
 * when no session can be alive (apply_no_session()).  Then WireGuard
 * initiates at once instead of after up to 5 s of back-off, and nothing of
 * worth is lost: packets waiting for a handshake, and the transfer
 * counters.  A peer with too many allowed IPs for one message gets its
 * endpoint set the plain way.
 */
bool apply_restart(int64_t handshake_ms, int64_t now_ms, size_t n_allowedips)
{
	return n_allowedips <= WG_RESTART_MAX_ALLOWEDIPS &&
	       apply_no_session(handshake_ms, now_ms);
}

/*
 * Does a direct path, set at @since_ms, work for WireGuard?  A module's
 * answer to a probe says only that the module's packets cross: a held TTL,
 * a stale connection tracking entry or a firewall that passes probes may
 * still stop WireGuard's.  So: a handshake completed since, or bytes
 * received since (a live session moved over needs no new handshake), and
 * WireGuard's endpoint not a relay (it follows the source of what it
 * authenticates last).
 */
bool apply_direct_works(int64_t since_ms, int64_t handshake_ms,
			bool received, bool at_relay)
{
	if (at_relay)
		return false;
	return received || (handshake_ms > 0 && handshake_ms >= since_ms);
}

/*
 * A punch: a probe from DEV's port to the peer's new endpoint, answer or
 * not.  It opens our own NAT toward the peer, so that the handshake the
 * peer sends gets in.  Only a nuisance when it fails.
 */
static void punch(struct khnl *nl, const struct wg_device *dev,
		  const struct sockaddr_storage *to)
{
	uint8_t nonce[KH_NONCE_LEN];
	char ep[ENDPOINT_STRLEN];
	int ret;

	ret = kh_probe_keys(nl, dev->listen_port, to,
			    dev->has_public_key ? dev->public_key : NULL,
			    NULL, 0, nonce);
	if (!ret)
		return;
	format_endpoint(to, ep, sizeof(ep));
	if (ret == -ENOENT)
		kh_err("%s: no punch to %s: port %u is not watched (khctl reflect enable %s)",
		       dev->ifname, ep, dev->listen_port, dev->ifname);
	else
		khnl_perror(nl, ret, "%s: punch to %s", dev->ifname, ep);
}

/*
 * A safe start only for a peer with no live session (a live one has its
 * path), only with a TTL to hold with, and not toward an endpoint the
 * peer's own probe came from (source observed): its NAT has the mapping
 * toward us already, so what we send matches it and collides with nothing.
 */
enum apply_start apply_start_role(bool no_session, uint8_t start_ttl,
				  uint8_t source, uint32_t rec_flags)
{
	if (!no_session || !start_ttl || source == KH_SOURCE_OBSERVED)
		return APPLY_START_NONE;
	if (rec_flags & KH_RECORD_F_WAITING)
		return APPLY_START_FIRST;
	return APPLY_START_HOLD;
}

/*
 * The hold goes in before WireGuard has the endpoint, so that not even its
 * first initiation leaves whole.  A module that cannot hold (the port is
 * not watched, or too many holds) leaves a plain start: said, not fatal.
 */
static enum apply_start safe_start(struct khnl *nl, const struct wg_device *dev,
				   const struct sockaddr_storage *to,
				   enum apply_start role, uint8_t ttl)
{
	char ep[ENDPOINT_STRLEN];
	struct timespec delay = {
		.tv_sec = APPLY_FIRST_DELAY_MS / 1000,
		.tv_nsec = (APPLY_FIRST_DELAY_MS % 1000) * 1000000L,
	};
	int ret;

	if (role == APPLY_START_FIRST) {
		while (nanosleep(&delay, &delay) && errno == EINTR)
			;
		return role;
	}
	if (role != APPLY_START_HOLD || !dev->listen_port)
		return APPLY_START_NONE;
	ret = kh_start(nl, dev->listen_port, to, ttl, APPLY_HOLD_MS);
	if (!ret)
		return role;
	format_endpoint(to, ep, sizeof(ep));
	khnl_perror(nl, ret, "%s: no safe start toward %s", dev->ifname, ep);
	return APPLY_START_NONE;
}

/*
 * Applies rec to peer (of dev) if apply_decide() says so: sets the endpoint
 * in WireGuard, after a safe start when start_ttl is not 0, punches
 * (punch_too: the port is watched, or the module refuses), and keeps peer's
 * copy current.  1 and *ch when it changed something, 0 when not, -errno
 * (printed) when WireGuard refused.
 */
int apply_record(struct khnl *nl, const struct wg_device *dev,
		 struct wg_peer *peer, const struct kh_record *rec,
		 int64_t now_ms, bool punch_too, uint8_t start_ttl,
		 struct change *ch)
{
	char key[KEY_B64_LEN + 1];
	enum apply_start start;
	bool restart;
	int ret;

	if (apply_decide(&rec->endpoint, rec->age_ms, &peer->endpoint,
			 peer->last_handshake_ms, now_ms) != APPLY_SET)
		return 0;
	restart = apply_restart(peer->last_handshake_ms, now_ms,
				peer->n_allowedips);
	start = apply_start_role(apply_no_session(peer->last_handshake_ms,
						  now_ms),
				 start_ttl, rec->source, rec->flags);
	start = safe_start(nl, dev, &rec->endpoint, start, start_ttl);
	if (restart)
		ret = wg_restart_peer(nl, dev->ifindex, peer, &rec->endpoint);
	else
		ret = wg_set_endpoint(nl, dev->ifindex, peer->public_key,
				      &rec->endpoint);
	if (ret) {
		key_to_base64(key, peer->public_key);
		khnl_perror(nl, ret, "%s: setting the endpoint of %s",
			    dev->ifname, key);
		return ret;
	}
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->key, peer->public_key, KH_KEY_LEN);
	ch->old_ep = peer->endpoint;
	ch->new_ep = rec->endpoint;
	ch->via = rec->reflector;
	ch->source = rec->source;
	ch->start = start;
	peer->endpoint = rec->endpoint;
	if (restart)
		peer->last_handshake_ms = 0;
	if (punch_too && dev->listen_port)
		punch(nl, dev, &rec->endpoint);
	return 1;
}
