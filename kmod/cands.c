// SPDX-License-Identifier: GPL-2.0
/*
 * Local candidates: this namespace's own addresses, on which a peer on the
 * same LAN reaches a WireGuard port without going through the NAT (which
 * may not hairpin).  Authenticated requests carry them (KH_PF_CAND_*), the
 * reflector keeps them with the record and hands them on.  Not loopback,
 * not link-local, not the WireGuard device's own (the tunnel's address is
 * no path to the tunnel), not a device that is down or has no carrier (a
 * container bridge with nothing on it); at most KH_MAX_CANDS / 2 per
 * family, in the order of the devices.
 */
#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include "kh.h"

#define PER_FAMILY	(KH_MAX_CANDS / 2)

static bool dev_counts(const struct net_device *dev, int skip_ifindex)
{
	return dev->ifindex != skip_ifindex &&
	       !(dev->flags & IFF_LOOPBACK) && netif_running(dev) &&
	       netif_carrier_ok(dev);
}

static u8 add_v4(const struct net_device *dev, u16 port,
		 struct kh_probe_addr *out, u8 n)
{
	const struct in_device *in_dev = __in_dev_get_rcu(dev);
	const struct in_ifaddr *ifa;

	if (!in_dev)
		return n;
	in_dev_for_each_ifa_rcu(ifa, in_dev) {
		__be32 a = ifa->ifa_local;

		if (n == PER_FAMILY)
			break;
		if (ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
		    ipv4_is_loopback(a) || ipv4_is_linklocal_169(a) ||
		    ipv4_is_multicast(a) || ipv4_is_zeronet(a))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = KH_PF_OBSERVED_V4;
		memcpy(out[n].addr, &a, 4);
		out[n].port = port;
		n++;
	}
	return n;
}

static u8 add_v6(struct net_device *dev, u16 port, struct kh_probe_addr *out,
		 u8 n)
{
	struct inet6_dev *idev = __in6_dev_get(dev);
	const struct inet6_ifaddr *ifp;

	if (!idev)
		return n;
	read_lock_bh(&idev->lock);
	list_for_each_entry(ifp, &idev->addr_list, if_list) {
		int type = ipv6_addr_type(&ifp->addr);

		if (n == PER_FAMILY)
			break;
		if (type & (IPV6_ADDR_LINKLOCAL | IPV6_ADDR_LOOPBACK |
			    IPV6_ADDR_MULTICAST | IPV6_ADDR_MAPPED) ||
		    type == IPV6_ADDR_ANY ||
		    ifp->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED |
				  IFA_F_DEPRECATED | IFA_F_TEMPORARY))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = KH_PF_OBSERVED_V6;
		memcpy(out[n].addr, &ifp->addr, 16);
		out[n].port = port;
		n++;
	}
	read_unlock_bh(&idev->lock);
	return n;
}

/* Into @out (KH_MAX_CANDS of them) the candidates of @lport; how many. */
u8 kh_cands_local(struct kh_net *kn, __be16 lport, struct kh_probe_addr *out)
{
	struct kh_probe_addr v6[PER_FAMILY];
	int skip = kh_hook_ifindex(kn, lport);
	u16 port = ntohs(lport);
	struct net_device *dev;
	u8 n4 = 0, n6 = 0;

	rcu_read_lock();
	for_each_netdev_rcu(kn->net, dev) {
		if (!dev_counts(dev, skip))
			continue;
		n4 = add_v4(dev, port, out, n4);
		n6 = add_v6(dev, port, v6, n6);
	}
	rcu_read_unlock();
	memcpy(out + n4, v6, n6 * sizeof(v6[0]));
	return n4 + n6;
}
