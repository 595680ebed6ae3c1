/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khctl netcheck: what the reflectors' answers tell about the NAT in front
 * of a WireGuard port, as a pure function.
 */
#ifndef KHCTL_NETCHECK_H
#define KHCTL_NETCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum nc_verdict {
	NC_UNKNOWN,		/* not enough answers to tell */
	NC_YES,
	NC_NO,
};

/* Per address family. */
struct nc_family {
	size_t asked, answered;
	size_t reflectors;	/* distinct reflector addresses that answered */
	bool ports_agree;	/* a reflector's two ports saw one mapping */
	struct sockaddr_storage seen;	/* the first answer's endpoint */
	enum nc_verdict varies;	/* the mapping depends on the destination */
	enum nc_verdict port_kept;	/* the public port is the listen port */
	enum nc_verdict port_filtered;	/* a packet from another port of a
					 * reflector we sent to was dropped
					 */
};

/* One reflector: where it is, how it saw us, and the other-port check. */
struct nc_answer {
	struct sockaddr_storage refl;
	struct sockaddr_storage seen;	/* ss_family 0: no answer */
	struct sockaddr_storage seen2;	/* from its second port; 0: none */
	bool alt_asked, alt_answered;
};

struct netcheck {
	struct nc_family v4, v6;
};

/* From the answers of n reflectors, for a device listening on port. */
void netcheck_analyze(const struct nc_answer *a, size_t n, uint16_t port,
		      struct netcheck *out);
const char *nc_verdict_name(enum nc_verdict v);

#endif
