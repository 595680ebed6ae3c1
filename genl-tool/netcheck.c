// SPDX-License-Identifier: GPL-2.0
/*
 * khctl netcheck: what the reflectors' answers tell about the NAT in front
 * of a WireGuard port, as a pure function.
 */
#include <netinet/in.h>
#include <string.h>

#include "netcheck.h"
#include "util.h"

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/*
 * A mapping varies by destination when two reflectors at different
 * addresses, or one reflector's two ports, see different endpoints; it
 * does not when they see the same (one reflector's two ports agreeing
 * cannot tell a mapping that depends on the address alone, which is rare:
 * it is taken for one that does not).  The port is kept when every answer
 * has it.  The NAT filters by port when no reflector that answered got its
 * answer from its other port through.
 */
void netcheck_analyze(const struct nc_answer *a, size_t n, uint16_t port,
		      struct netcheck *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		struct nc_family *f = a[i].refl.ss_family == AF_INET6 ?
				      &out->v6 : &out->v4;
		bool new_addr = true;

		f->asked++;
		if (a[i].alt_answered)
			f->port_filtered = NC_NO;
		if (!a[i].seen.ss_family)
			continue;
		if (a[i].alt_asked && f->port_filtered == NC_UNKNOWN)
			f->port_filtered = NC_YES;
		for (j = 0; j < i; j++)
			if (a[j].seen.ss_family &&
			    sockaddr_same_addr(&a[j].refl, &a[i].refl))
				new_addr = false;
		f->reflectors += new_addr;
		if (a[i].seen2.ss_family) {
			if (!sockaddr_same(&a[i].seen2, &a[i].seen))
				f->varies = NC_YES;
			else
				f->ports_agree = true;
			if (port_of(&a[i].seen2) != port)
				f->port_kept = NC_NO;
		}
		if (!f->answered++) {
			f->seen = a[i].seen;
			if (f->port_kept == NC_UNKNOWN)
				f->port_kept = port_of(&a[i].seen) == port ?
					       NC_YES : NC_NO;
			continue;
		}
		if (port_of(&a[i].seen) != port)
			f->port_kept = NC_NO;
		if (!sockaddr_same(&a[i].seen, &f->seen))
			f->varies = NC_YES;
	}
	if ((out->v4.reflectors >= 2 || out->v4.ports_agree) &&
	    out->v4.varies == NC_UNKNOWN)
		out->v4.varies = NC_NO;
	if ((out->v6.reflectors >= 2 || out->v6.ports_agree) &&
	    out->v6.varies == NC_UNKNOWN)
		out->v6.varies = NC_NO;
}

const char *nc_verdict_name(enum nc_verdict v)
{
	switch (v) {
	case NC_YES:
		return "yes";
	case NC_NO:
		return "no";
	default:
		return "unknown";
	}
}
