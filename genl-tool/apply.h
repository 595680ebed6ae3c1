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

struct change {
	uint8_t key[KH_KEY_LEN];
	struct sockaddr_storage old_ep;	/* ss_family 0: none */
	struct sockaddr_storage new_ep;
	struct sockaddr_storage via;	/* the reflector; ss_family 0: none */
	uint8_t source;			/* enum kh_source */
};

enum apply_verdict apply_decide(const struct sockaddr_storage *rec_ep,
				uint32_t rec_age_ms,
				const struct sockaddr_storage *wg_ep,
				int64_t handshake_ms, int64_t now_ms);
bool apply_restart(int64_t handshake_ms, int64_t now_ms, size_t n_allowedips);
int apply_record(struct khnl *nl, const struct wg_device *dev,
		 struct wg_peer *peer, const struct kh_record *rec,
		 int64_t now_ms, bool punch_too, struct change *ch);
int64_t realtime_ms(void);

#endif
