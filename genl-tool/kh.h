/* SPDX-License-Identifier: GPL-2.0 */
/* Requests to the kh_reflect family, and parsers for what it sends back. */
#ifndef KHCTL_KH_H
#define KHCTL_KH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/kh_reflect.h>

#include "nl.h"

struct kh_watch {
	uint16_t port;
	uint32_t ifindex;
	char ifname[IF_NAMESIZE];	/* "" when the module sent none */
};

struct kh_counter {
	uint16_t id;			/* enum kh_stat */
	uint64_t value;
};

struct kh_status {
	uint32_t version;
	struct kh_watch *watches;
	size_t n_watches;
	struct kh_counter *counters;
	size_t n_counters;
};

struct kh_reflection {
	uint16_t port;
	struct sockaddr_storage reflector;
	struct sockaddr_storage endpoint;
	bool has_nonce, has_rtt, has_age;
	uint8_t nonce[KH_NONCE_LEN];
	uint32_t rtt_us;
	uint32_t age_ms;
};

int kh_open(struct khnl *nl);
int kh_get_status(struct khnl *nl, struct kh_status *st);
void kh_status_free(struct kh_status *st);
int kh_watch(struct khnl *nl, uint16_t port, uint32_t ifindex,
	     const char *ifname);
int kh_unwatch(struct khnl *nl, uint16_t port);
int kh_probe(struct khnl *nl, uint16_t port,
	     const struct sockaddr_storage *reflector,
	     uint8_t nonce[KH_NONCE_LEN]);
int kh_dump_reflections(struct khnl *nl,
			int (*fn)(const struct kh_reflection *r, void *arg),
			void *arg);
int kh_events_open(struct khnl *nl, struct nl_sock **out);
uint8_t kh_msg_cmd(struct nl_msg *msg);
int kh_parse_reflection(struct nl_msg *msg, struct kh_reflection *r);
const char *kh_stat_name(unsigned int id);

/* The parser behind kh_get_status(), for the unit tests. */
int kh_parse_status(struct nl_msg *msg, void *arg);

#endif
