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

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/*
 * A mapping varies by destination when two reflectors at different
 * addresses see different endpoints; one reflector, or several at one
 * address, cannot tell.  The port is kept when every answer has it.
 */
void netcheck_analyze(const struct sockaddr_storage *refl,
		      const struct sockaddr_storage *seen, size_t n,
		      uint16_t port, struct netcheck *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		struct nc_family *f = refl[i].ss_family == AF_INET6 ?
				      &out->v6 : &out->v4;
		bool new_addr = true;

		f->asked++;
		if (!seen[i].ss_family)
			continue;
		for (j = 0; j < i; j++)
			if (seen[j].ss_family && same_addr(&refl[j], &refl[i]))
				new_addr = false;
		f->reflectors += new_addr;
		if (!f->answered++) {
			f->seen = seen[i];
			f->varies = NC_UNKNOWN;
			f->port_kept = port_of(&seen[i]) == port ? NC_YES : NC_NO;
			continue;
		}
		if (port_of(&seen[i]) != port)
			f->port_kept = NC_NO;
		if (!sockaddr_same(&seen[i], &f->seen))
			f->varies = NC_YES;
	}
	if (out->v4.reflectors >= 2 && out->v4.varies == NC_UNKNOWN)
		out->v4.varies = NC_NO;
	if (out->v6.reflectors >= 2 && out->v6.varies == NC_UNKNOWN)
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
