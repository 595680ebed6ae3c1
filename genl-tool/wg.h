/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a device from WireGuard's own generic-netlink family. */
#ifndef KHCTL_WG_H
#define KHCTL_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/wireguard.h>

#include "nl.h"

struct wg_allowedip {
	uint16_t family;			/* AF_INET or AF_INET6 */
	uint8_t cidr;
	uint8_t addr[16];
};

/*
 * What wg_restart_peer() needs to create a peer again as it was: its
 * preshared key (all zeros: none), keepalive and allowed IPs.
 */
struct wg_peer {
	uint8_t public_key[WG_KEY_LEN];
	struct sockaddr_storage endpoint;	/* ss_family 0: none */
	int64_t last_handshake_ms;		/* Unix time; 0: never */
	uint64_t rx_bytes;			/* received from the peer */
	uint64_t tx_bytes;			/* sent to it */
	uint8_t preshared_key[WG_KEY_LEN];
	uint16_t keepalive_s;			/* 0: off */
	struct wg_allowedip *allowedips;
	size_t n_allowedips;
	size_t cap_allowedips;
};

/* More allowed IPs than this: wg_restart_peer() would not fit one message. */
#define WG_RESTART_MAX_ALLOWEDIPS	64

struct wg_device {
	uint32_t ifindex;
	char ifname[IF_NAMESIZE];
	uint16_t listen_port;			/* 0 while down */
	uint32_t fwmark;			/* 0: none */
	bool has_public_key;
	uint8_t public_key[WG_KEY_LEN];
	struct wg_peer *peers;
	size_t n_peers;
	size_t cap_peers;
};

/* Returned when the wireguard family itself is missing. */
#define WG_ENOFAMILY	EPROTONOSUPPORT

int wg_get_device(struct khnl *nl, const char *ifname, uint32_t ifindex,
		  struct wg_device **out);
void wg_device_free(struct wg_device *dev);
void wg_perror(const struct khnl *nl, int err, const char *dev);
void wg_sort_peers(struct wg_device *dev);
struct wg_peer *wg_find_peer(const struct wg_device *dev, const void *key);
const struct wg_peer *wg_relaying_peer(const struct wg_device *dev,
				       const struct wg_peer *p);
int wg_set_endpoint(struct khnl *nl, uint32_t ifindex, const void *key,
		    const struct sockaddr_storage *endpoint);
int wg_restart_peer(struct khnl *nl, uint32_t ifindex,
		    const struct wg_peer *peer,
		    const struct sockaddr_storage *endpoint);
int wg_nudge_peer(struct khnl *nl, uint32_t ifindex,
		  const struct wg_peer *peer);
void wg_peers_free(struct wg_peer *peers, size_t n);

/* The parser behind wg_get_device() and the messages of wg_set_endpoint(),
 * wg_restart_peer() and wg_nudge_peer(), for the unit tests. */
int wg_parse_device(struct nl_msg *msg, void *arg);
struct nl_msg *wg_set_endpoint_msg(int family, uint32_t ifindex,
				   const void *key,
				   const struct sockaddr_storage *endpoint);
struct nl_msg *wg_restart_peer_msg(int family, uint32_t ifindex,
				   const struct wg_peer *peer,
				   const struct sockaddr_storage *endpoint);
struct nl_msg *wg_nudge_peer_msg(int family, uint32_t ifindex,
				 const struct wg_peer *peer);

#endif
