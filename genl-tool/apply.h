/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Applying a peer endpoint record to WireGuard, for peers pull and sync:
 * the rule as a pure function, and the doing.
 */
#ifndef KHCTL_APPLY_H
#define KHCTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "kh.h"
#include "wg.h"

/*
 * WireGuard's REJECT_AFTER_TIME: a handshake younger than this still backs
 * a live session, so the endpoint it came from is one that works.
 */
#define APPLY_FRESH_HANDSHAKE_MS	180000

enum apply_verdict {
	APPLY_SET,		/* set the record's endpoint */
	APPLY_SAME,		/* WireGuard has that endpoint already */
	APPLY_HANDSHAKE,	/* a fresher handshake came from elsewhere */
};

/*
 * Safe start (KH_CMD_START): the side that learns a peer's endpoint first
 * holds, its packets to the peer leaving with a TTL that opens its own NAT
 * only, until the peer's first packet comes or APPLY_HOLD_MS pass; the
 * side the reflector tells that the peer holds (KH_RECORD_F_WAITING) waits
 * APPLY_FIRST_DELAY_MS, time for the peer to open its NAT, and sends.
 * The bound: the peer was told at about the time we began to hold, so its
 * first packet is due a little after APPLY_FIRST_DELAY_MS.  One that did
 * not come by then died at a NAT of ours the held TTL did not pass: the
 * hold ends, and the start is a plain simultaneous one, well within
 * --relay-after's default, so the path check still finds it direct.
 */
#define APPLY_HOLD_MS		2000
#define APPLY_FIRST_DELAY_MS	1000
#define APPLY_DEFAULT_START_TTL	2

enum apply_start {
	APPLY_START_NONE,
	APPLY_START_HOLD,	/* we hold; the peer sends first */
	APPLY_START_FIRST,	/* the peer holds; we send first */
};

/*
 * The relay: a peer whose probes get no answer from its record's endpoint
 * within --relay-after is relayed by a reflector; sync keeps probing and
 * goes back to the direct path when one answers.
 */
#define APPLY_DEFAULT_RELAY_AFTER_MS	3000

/*
 * A direct path counts only once WireGuard itself shows that it works
 * (apply_direct_works()); one that does not within APPLY_CONFIRM_MS of
 * being set is relayed.  The bound lets two handshake initiations be lost
 * and WireGuard retry (its REKEY_TIMEOUT, 5 s, plus jitter up to 1/3 s):
 * with one, a loaded host whose first answer came late was relayed.
 */
#define APPLY_CONFIRM_MS		11500

enum apply_path {
	APPLY_PATH_DIRECT,	/* the record's endpoint */
	APPLY_PATH_RELAYED,	/* through the reflector in new_ep */
	APPLY_PATH_BIRTHDAY,	/* the pair birthday probing found */
	APPLY_PATH_CACHED,	/* what the cache kept: no reflector answered */
	APPLY_PATH_LAN,		/* one of the peer's own addresses */
};

struct change {
	uint8_t key[KH_KEY_LEN];
	struct sockaddr_storage old_ep;	/* ss_family 0: none */
	struct sockaddr_storage new_ep;
	struct sockaddr_storage via;	/* the reflector; ss_family 0: none */
	uint8_t source;			/* enum kh_source */
	uint8_t start;			/* enum apply_start */
	uint8_t path;			/* enum apply_path */
};

enum apply_verdict apply_decide(const struct sockaddr_storage *rec_ep,
				uint32_t rec_age_ms,
				const struct sockaddr_storage *wg_ep,
				int64_t handshake_ms, int64_t now_ms);
bool apply_no_session(int64_t handshake_ms, int64_t now_ms);
bool apply_restart(int64_t handshake_ms, int64_t now_ms, size_t n_allowedips);
enum apply_start apply_start_role(bool no_session, uint8_t start_ttl,
				  uint8_t source, uint32_t rec_flags);
int apply_record(struct khnl *nl, const struct wg_device *dev,
		 struct wg_peer *peer, const struct kh_record *rec,
		 int64_t now_ms, bool punch_too, uint8_t start_ttl,
		 struct change *ch);
bool apply_direct_works(int64_t since_ms, int64_t handshake_ms,
			bool received, bool at_relay);
int64_t realtime_ms(void);

#endif
