/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The start TTL, found rather than set: how many routers a held packet
 * must cross to open every NAT in front of us (hops.c).  A hold's packets
 * leave with one more than that, so that they pass our own NATs and die
 * before the far side's.
 */
#ifndef KHCTL_HOPS_H
#define KHCTL_HOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HOPS_MAX	8	/* routers looked at; a start TTL up to 8 */
#define HOPS_WAIT_MS	500	/* for the routers' time-exceeded answers */
#define HOPS_PORT	33434	/* where the probes go: traceroute's port */

/* What one TTL-limited probe toward the reflector brought back. */
struct hop {
	bool answered;			/* an ICMP error came */
	bool reached;			/* from the destination: not a router */
	struct sockaddr_storage from;	/* who sent it */
};

/*
 * The start TTL for what @seen (what the reflector saw of us) and @hops
 * (TTL 1 first) say; 0 if they say nothing (no router answered).
 */
uint8_t hops_start_ttl(const struct sockaddr_storage *seen,
		       const struct hop *hops, size_t n);

/*
 * Sends one probe per TTL from 1 to @n toward @to (its address; the port
 * is HOPS_PORT), marked @fwmark as WireGuard's own packets are, and waits
 * up to @wait_ms for the answers, less once they tell (@seen: what the
 * reflector saw of us).
 * 0, or -errno when no probe could be sent.
 */
int hops_trace(const struct sockaddr_storage *to,
	       const struct sockaddr_storage *seen, uint32_t fwmark,
	       struct hop *hops, size_t n, int wait_ms);

/* Both: the start TTL toward @to, or 0 if nothing was found. */
uint8_t hops_find(const struct sockaddr_storage *to,
		  const struct sockaddr_storage *seen, uint32_t fwmark);

bool addr_is_private(const struct sockaddr_storage *ss);

#endif
