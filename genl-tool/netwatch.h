/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peers sync --watch follows the network: routing and address events from
 * rtnetlink that can move the path of the WireGuard port (a default route,
 * a local address, a link going up or down) start a round at once,
 * debounced (netwatch.c).
 */
#ifndef KHCTL_NETWATCH_H
#define KHCTL_NETWATCH_H

#include <stdbool.h>

/* After the last event of a burst, before the round (a link going down
 * brings its address and route events over some milliseconds).
 */
#define NETWATCH_DEBOUNCE_MS	300

/* A socket on rtnetlink's link, address and route groups; -errno. */
int netwatch_open(void);

/*
 * Reads what came on @fd; 1 when something of it can move the path of a
 * port of the device @skip_ifindex (the WireGuard device: its own
 * addresses and routes cannot), 0 if not, -errno on failure (ENOBUFS:
 * events were lost, which counts as a change).
 */
int netwatch_read(int fd, int skip_ifindex);

#endif
