// SPDX-License-Identifier: GPL-2.0
/*
 * A direct path that dies, while peers sync --watch runs.  A router on the
 * way reboots, a firewall starts dropping, a NAT forgets the mapping: the
 * session stops receiving, and nothing in a round looks at a peer whose
 * last handshake is recent.  So every LIVE_POLL_MS the watch loop reads
 * WireGuard's counters; a direct peer whose transmit grew while its
 * receive and its last handshake did not, for LIVE_STALL_MS, has its path
 * checked again at once (probed; no answer within --relay-after, and it is
 * relayed).  An idle peer sends nothing and is left alone; one that only
 * sends keepalives looks stalled too, and its probe's answer settles it.
 *
 * LIVE_STALL_MS is 20 s: WireGuard itself starts a new handshake when 15 s
 * of sending got no answer (its keepalive timeout plus rekey timeout), and
 * sends one every 5 s after; 20 s of silence is that handshake and one
 * retry lost, so a path that merely lost a packet is not taken for dead.
 *
 * Hysteresis: a peer moved to the relay this way is tried direct again
 * only after LIVE_BACKOFF_MS, at the first round after it (and then every
 * round, as every relayed peer is): one switch per back-off at most, so a
 * lossy path does not flap.
 */
#include <errno.h>
#include <string.h>

#include "device.h"
#include "sync.h"
#include "util.h"

/* The entry of @key, made if need be; NULL without memory. */
static struct live *live_of(struct sync *s, const uint8_t *key)
{
	struct live *v;
	size_t i;

	for (i = 0; i < s->n_live; i++)
		if (!memcmp(s->live[i].key, key, KH_KEY_LEN))
			return &s->live[i];
	v = grow(s->live, s->n_live, &s->cap_live, sizeof(*v));
	if (!v)
		return NULL;
	s->live = v;
	v = &s->live[s->n_live++];
	memset(v, 0, sizeof(*v));
	memcpy(v->key, key, KH_KEY_LEN);
	return v;
}

/* Is @key's way back to direct closed for now (the back-off)? */
bool live_backing_off(struct sync *s, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < s->n_live; i++)
		if (!memcmp(s->live[i].key, key, KH_KEY_LEN))
			return realtime_ms() < s->live[i].backoff_until_ms;
	return false;
}

/*
 * @p of @dev as WireGuard has it now: true when its direct path has been
 * stalled for LIVE_STALL_MS (and the stall begins again from now).
 */
static bool stalled(struct sync *s, const struct wg_device *dev,
		    const struct wg_peer *p, int64_t now)
{
	struct live *l = live_of(s, p->public_key);
	bool moved;

	if (!l)
		return false;
	moved = p->rx_bytes != l->rx || p->last_handshake_ms != l->hs;
	/*
	 * Relayed while it stalled: the peer's side went first, and its
	 * relayed packets moved WireGuard here.  The back-off holds too.
	 */
	if (l->stalled_ms && wg_relaying_peer(dev, p))
		l->backoff_until_ms = now + LIVE_BACKOFF_MS;
	if (moved || !p->last_handshake_ms || !p->endpoint.ss_family ||
	    wg_relaying_peer(dev, p))
		l->stalled_ms = 0;
	else if (p->tx_bytes != l->tx && !l->stalled_ms)
		l->stalled_ms = now;
	l->tx = p->tx_bytes;
	l->rx = p->rx_bytes;
	l->hs = p->last_handshake_ms;
	if (!l->stalled_ms || now - l->stalled_ms < LIVE_STALL_MS)
		return false;
	l->stalled_ms = 0;
	return true;
}

/* Read WireGuard, and check again the paths of the peers that stalled. */
void live_poll(struct sync *s)
{
	struct kh_record *keys = NULL;
	char key[KEY_B64_LEN + 1];
	struct wg_device *dev;
	size_t i, n = 0, cap = 0;
	int64_t now = realtime_ms();

	if (open_device(&s->nl, s->name, DEV_NEED_PORT, &dev))
		return;
	for (i = 0; i < dev->n_peers; i++) {
		struct kh_record *v;

		if (!stalled(s, dev, &dev->peers[i], now))
			continue;
		v = grow(keys, n, &cap, sizeof(*v));
		if (!v)
			break;
		keys = v;
		memset(&keys[n], 0, sizeof(keys[n]));
		memcpy(keys[n].key, dev->peers[i].public_key, KH_KEY_LEN);
		key_to_base64(key, keys[n].key);
		kh_err("%s: %s: sent for %u s and heard nothing: checking its path again",
		       s->name, key, LIVE_STALL_MS / 1000);
		n++;
	}
	if (!n) {
		wg_device_free(dev);
		return;
	}
	wg_device_free(s->dev);
	s->dev = dev;
	s->applied_ms = 0;
	s->force_check = true;
	check_paths(s, keys, n, false);
	s->force_check = false;
	/* those relayed now stay so for the back-off */
	if (!open_device(&s->nl, s->name, DEV_NEED_PORT, &dev)) {
		for (i = 0; i < n; i++) {
			const struct wg_peer *p = wg_find_peer(dev, keys[i].key);
			struct live *l = live_of(s, keys[i].key);

			if (p && l && wg_relaying_peer(dev, p))
				l->backoff_until_ms = realtime_ms() +
						      LIVE_BACKOFF_MS;
		}
		wg_device_free(dev);
	}
	free(keys);
}
