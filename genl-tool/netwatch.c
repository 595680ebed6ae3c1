// SPDX-License-Identifier: GPL-2.0
/*
 * Network changes for peers sync --watch.  A laptop that moves to another
 * network, a second uplink taking over, a new address: the port's public
 * endpoint moves, and the peers' NATs filter by the old one.  The next
 * round tells the reflectors, which push the new record to the peers at
 * once; waiting for the interval would leave the peers apart that long.
 *
 * What counts: a default route (any table but local) added or removed, a
 * global address added or removed, a link going up or down or away; none
 * of them on the WireGuard device itself (wg-quick's routes and the
 * tunnel's addresses move nothing).  Link-local and host-scope addresses
 * do not count: every link that comes up makes one.
 */
#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netwatch.h"

int netwatch_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			     RTMGRP_IPV6_ROUTE,
	};
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static bool route_counts(const struct nlmsghdr *h, int skip)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)) ||
	    rt->rtm_dst_len || rt->rtm_table == RT_TABLE_LOCAL ||
	    rt->rtm_type != RTN_UNICAST)
		return false;
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_OIF &&
		    RTA_PAYLOAD(a) >= sizeof(int) &&
		    *(const int *)RTA_DATA(a) == skip)
			return false;
	return true;
}

static bool addr_counts(const struct nlmsghdr *h, int skip)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);

	return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifa)) &&
	       (int)ifa->ifa_index != skip &&
	       ifa->ifa_scope == RT_SCOPE_UNIVERSE;
}

static bool link_counts(const struct nlmsghdr *h, int skip)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
	    ifi->ifi_index == skip)
		return false;
	return h->nlmsg_type == RTM_DELLINK ||
	       (ifi->ifi_change & (IFF_UP | IFF_RUNNING | IFF_LOWER_UP));
}

int netwatch_read(int fd, int skip_ifindex)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool changed = false;
	ssize_t n;

	for (;;) {
		struct nlmsghdr *h;
		int len;

		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				changed = true;
				continue;
			}
			return -errno;
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			switch (h->nlmsg_type) {
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				changed |= route_counts(h, skip_ifindex);
				break;
			case RTM_NEWADDR:
			case RTM_DELADDR:
				changed |= addr_counts(h, skip_ifindex);
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				changed |= link_counts(h, skip_ifindex);
				break;
			default:
				break;
			}
		}
	}
	return changed;
}
