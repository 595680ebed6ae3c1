/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khctl netcheck: what the reflectors' answers tell about the NAT in front
 * of a WireGuard port, as a pure function.
 */
#ifndef KHCTL_NETCHECK_H
#define KHCTL_NETCHECK_H

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
	struct sockaddr_storage seen;	/* the first answer's endpoint */
	enum nc_verdict varies;	/* the mapping depends on the destination */
	enum nc_verdict port_kept;	/* the public port is the listen port */
};

struct netcheck {
	struct nc_family v4, v6;
};

/*
 * From the reflectors asked (refl) and the endpoints they saw us as
 * (seen[i].ss_family 0: no answer), for a device listening on port.
 */
void netcheck_analyze(const struct sockaddr_storage *refl,
		      const struct sockaddr_storage *seen, size_t n,
		      uint16_t port, struct netcheck *out);
const char *nc_verdict_name(enum nc_verdict v);

#endif
