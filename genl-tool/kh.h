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
	bool has_key;			/* a mesh key is set on the port */
	uint8_t nat;			/* KH_RECORD_F_NAT bits its requests
					 * say (KH_PF_NAT)
					 */
	uint32_t fwmark;		/* its packets' mark; 0: none */
};

struct kh_counter {
	uint16_t id;			/* enum kh_stat */
	uint64_t value;
};

struct kh_status {
	uint32_t version;
	bool has_records;		/* the three below were sent */
	uint32_t records, max_records, record_ttl;
	bool has_ratelimit;		/* the three below were sent */
	uint32_t rl_rate, rl_burst, rl_total;
	uint32_t relay_rate;		/* 0: not sent (an older module) */
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
	bool auth;			/* answered with the mesh key */
	bool relay_ready;		/* the relay to peer relay is ready */
	uint8_t relay[KH_KEY_LEN];
	uint8_t nonce[KH_NONCE_LEN];
	uint32_t rtt_us;
	uint32_t age_ms;
};

/* A peer endpoint record, as KH_CMD_GET_PEER(S) and KH_CMD_PEER_EVENT have it. */
struct kh_record {
	uint8_t key[KH_KEY_LEN];
	struct sockaddr_storage endpoint;
	struct sockaddr_storage reflector;	/* ss_family 0: none */
	uint8_t source;			/* enum kh_source */
	uint8_t event;			/* enum kh_event, events only */
	uint16_t port;			/* 0 if pushed */
	uint32_t age_ms;		/* since last confirmed */
	uint32_t expires_ms;		/* until reclaimed */
	uint32_t flags;			/* KH_RECORD_F_* */
	/*
	 * The peer's own addresses on its port, as it said: a sockaddr_in or
	 * sockaddr_in6 each (not a sockaddr_storage: a dump holds many).
	 */
	struct sockaddr_in6 cands[KH_MAX_CANDS];
	size_t n_cands;
};

struct kh_records {
	struct kh_record *v;
	size_t n, cap;
	bool inconsistent;	/* every try raced a change: see kh_dump_peers() */
	unsigned int bad;	/* malformed entries skipped */
};

/* The state of one try of kh_dump_peers(), for kh_parse_dump_record(). */
struct kh_dump {
	struct kh_records *out;
	bool intr;		/* a message had NLM_F_DUMP_INTR */
};

int kh_open(struct khnl *nl);
int kh_get_status(struct khnl *nl, struct kh_status *st);
void kh_status_free(struct kh_status *st);
int kh_watch(struct khnl *nl, uint16_t port, uint32_t ifindex,
	     const char *ifname, uint32_t fwmark);
int kh_unwatch(struct khnl *nl, uint16_t port);
int kh_probe(struct khnl *nl, uint16_t port,
	     const struct sockaddr_storage *reflector,
	     uint8_t nonce[KH_NONCE_LEN]);
int kh_probe_keys(struct khnl *nl, uint16_t port,
		  const struct sockaddr_storage *reflector,
		  const uint8_t *pubkey, const uint8_t (*wants)[KH_KEY_LEN],
		  size_t n_wants, uint8_t nonce[KH_NONCE_LEN]);
int kh_probe_alt(struct khnl *nl, uint16_t port,
		 const struct sockaddr_storage *reflector,
		 const uint8_t *pubkey, uint8_t nonce[KH_NONCE_LEN]);
int kh_probe_relay(struct khnl *nl, uint16_t port,
		   const struct sockaddr_storage *reflector,
		   const uint8_t *pubkey, const uint8_t peer[KH_KEY_LEN],
		   bool end, uint8_t nonce[KH_NONCE_LEN]);
int kh_probe_nat(struct khnl *nl, uint16_t port,
		 const struct sockaddr_storage *reflector,
		 const uint8_t *pubkey, uint8_t nat,
		 uint8_t nonce[KH_NONCE_LEN]);

/* A birthday session to start (KH_CMD_BIRTHDAY); 0: the module's default. */
struct kh_bday_ask {
	uint16_t port;
	const uint8_t *self, *peer;
	struct sockaddr_storage target;
	uint8_t mode;			/* enum kh_bday_mode */
	uint8_t ttl;			/* the spray's */
	uint32_t count, rate, time_ms;
};

/* A session, as KH_CMD_GET_BIRTHDAYS has it. */
struct kh_bday {
	uint16_t port;
	uint8_t peer[KH_KEY_LEN];
	struct sockaddr_storage target;
	struct sockaddr_storage found;	/* ss_family 0: not found */
	uint8_t mode, state;
	uint32_t count, rate, time_ms;
	uint32_t ports, probes, age_ms, took_ms;
	uint16_t local_port;		/* the spray's socket that works */
};

struct kh_bdays {
	struct kh_bday *v;
	size_t n, cap;
	unsigned int bad;
};

int kh_bday_start(struct khnl *nl, const struct kh_bday_ask *ask);
int kh_bday_end(struct khnl *nl, uint16_t port, const uint8_t peer[KH_KEY_LEN]);
int kh_dump_bdays(struct khnl *nl, struct kh_bdays *out);
int kh_parse_bday(struct nl_msg *msg, struct kh_bday *b);
const struct kh_bday *kh_bdays_find(const struct kh_bdays *b, uint16_t port,
				    const uint8_t peer[KH_KEY_LEN]);
void kh_bdays_free(struct kh_bdays *b);
const char *kh_bday_mode_name(unsigned int mode);
const char *kh_bday_state_name(unsigned int state);
int kh_set_key(struct khnl *nl, uint16_t port, const uint8_t key[KH_KEY_LEN]);
/* What KH_CMD_SET_CONFIG sets; 0 leaves a value as it is. */
struct kh_config {
	uint32_t max_records, record_ttl;
	uint32_t rl_rate, rl_burst, rl_total;
	uint32_t relay_rate;
};

int kh_set_config(struct khnl *nl, const struct kh_config *cfg);
int kh_get_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN],
		struct kh_record *rec);
int kh_del_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN]);
int kh_start(struct khnl *nl, uint16_t port, const struct sockaddr_storage *to,
	     uint8_t ttl, uint32_t hold_ms);
int kh_flush_peers(struct khnl *nl);
int kh_set_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN],
		const struct sockaddr_storage *endpoint, uint32_t ttl_s);
int kh_dump_peers(struct khnl *nl, struct kh_records *out);
void kh_records_free(struct kh_records *r);
int kh_parse_record(struct nl_msg *msg, struct kh_record *rec);
/* A record's candidate i, as a sockaddr_storage. */
void kh_record_cand(const struct kh_record *rec, size_t i,
		    struct sockaddr_storage *ss);
bool kh_record_is_cand(const struct kh_record *rec,
		       const struct sockaddr_storage *ep);
const char *kh_source_name(unsigned int source);
const char *kh_event_name(unsigned int event);
int kh_dump_reflections(struct khnl *nl,
			int (*fn)(const struct kh_reflection *r, void *arg),
			void *arg);
int kh_events_open(struct khnl *nl, struct nl_sock **out);
uint8_t kh_msg_cmd(struct nl_msg *msg);
int kh_parse_reflection(struct nl_msg *msg, struct kh_reflection *r);
const char *kh_stat_name(unsigned int id);

/* The parsers behind kh_get_status() and kh_dump_peers(), for the tests. */
int kh_parse_status(struct nl_msg *msg, void *arg);
int kh_parse_dump_record(struct nl_msg *msg, void *arg);
struct nl_msg *kh_probe_msg(int family, uint16_t port,
			    const struct sockaddr_storage *reflector,
			    const uint8_t *pubkey,
			    const uint8_t (*wants)[KH_KEY_LEN], size_t n_wants);

#endif
