/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reflector as a round of peers sync or netcheck sees it: where it is,
 * what it was asked, and how it answered.  Its own header, so that the
 * path machine (path.c) can choose a relay without the rest of sync.h.
 */
#ifndef KHCTL_REFLECTOR_H
#define KHCTL_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct reflector {
	struct sockaddr_storage addr;
	size_t skip;			/* the peer at addr, not asked for */
	size_t b_first, b_n;		/* its batches */
	bool answered, auth;
	bool alt_asked, alt_answered;	/* netcheck's other-port answer */
	bool second_answered;		/* its second port (the next one) */
	struct sockaddr_storage second_seen;	/* ... saw us there */
	struct sockaddr_storage seen_as;
	uint32_t rtt_us;
	int err;			/* sending failed: -errno */
};

#endif
