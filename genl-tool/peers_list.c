// SPDX-License-Identifier: GPL-2.0
/*
 * khctl peers list and peers export: the records table, and with DEV each
 * peer's path as WireGuard has it (direct, lan, birthday, relayed, cached,
 * none).  The other peers subcommands are in cmd_peers.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "device.h"
#include "hops.h"
#include "kh.h"
#include "peers.h"
#include "show.h"
#include "util.h"
#include "wg.h"

#define OUT_BUF		(1 << 16)

/*
 * Listings can be 100,000 lines: one big stdio buffer instead of a write
 * per line.  Must come before the first output.
 */
static void buffer_stdout(void)
{
	setvbuf(stdout, NULL, _IOFBF, OUT_BUF);
}

int peers_dump(struct khnl *nl, struct kh_records *recs)
{
	int ret = kh_dump_peers(nl, recs);

	if (ret) {
		khnl_perror(nl, ret, "reading the records");
		return ret;
	}
	if (recs->inconsistent)
		kh_err("warning: the records kept changing while they were read: one may be missing or listed twice");
	if (recs->bad)
		kh_err("warning: skipped %u malformed records", recs->bad);
	return 0;
}

/*
 * The path to peer: relayed when WireGuard has, instead of the record's
 * endpoint, the endpoint of another peer of dev (a reflector: peers sync
 * relays that way); *relay is that peer.  Birthday when it uses the pair
 * that a found birthday session holds.  LAN when it uses one of the
 * peer's own addresses (a candidate) that no reflector reported.  Else
 * direct, or none without an endpoint at all.
 */
static const char *path_of(const struct wg_device *dev,
			   const struct kh_bdays *bd,
			   const struct wg_peer *peer,
			   const struct kh_record *rec,
			   const struct wg_peer **relay)
{
	const struct kh_bday *b;

	*relay = NULL;
	if (!peer->endpoint.ss_family)
		return "none";
	/* the probing side talks to the pair; the spraying side rewrites */
	b = kh_bdays_find(bd, dev->listen_port, peer->public_key);
	if (b && b->state == KH_BDAY_FOUND &&
	    sockaddr_same(&peer->endpoint, b->mode == KH_BDAY_PROBE ?
			  &b->found : &b->target))
		return "birthday";
	/*
	 * One of the peer's own addresses, other than what a reflector saw
	 * (a peer without NAT is seen at its own), or a private one where
	 * its own probe came from: its LAN.
	 */
	if (kh_record_is_cand(rec, &peer->endpoint) &&
	    (!sockaddr_same(&peer->endpoint, &rec->endpoint) ||
	     (rec->source == KH_SOURCE_OBSERVED &&
	      addr_is_private(&peer->endpoint))))
		return "lan";
	if (sockaddr_same(&peer->endpoint, &rec->endpoint))
		return "direct";
	*relay = wg_relaying_peer(dev, peer);
	return *relay ? "relayed" : "direct";
}

/*
 * DEV's cache (what peers sync kept on disk, in $KHCTL_STATE_DIR or
 * /var/lib/khctl): for peers that have no record, whose endpoint
 * WireGuard got from it.  Nothing if it cannot be read: sync says why.
 */
static void read_cache(const struct wg_device *dev, struct cache *c)
{
	const char *dir = getenv(CACHE_DIR_ENV);
	char path[PATH_MAX], why[64], *text = NULL;
	size_t len;

	if (!dev || !dev->has_public_key ||
	    cache_file_path(dir && *dir ? dir : CACHE_DEFAULT_DIR, dev->ifname,
			    dev->public_key, "", "", path, sizeof(path)) ||
	    cache_read_file(path, &text, &len))
		return;
	if (cache_parse(text, len, dev->public_key, c, why, sizeof(why)))
		cache_free(c);
	free(text);
}

/* Peer p has no record but the cache's endpoint: that entry, else NULL. */
static const struct cache_entry *cached(const struct kh_records *recs,
					const struct cache *c,
					const struct wg_peer *p)
{
	const struct cache_entry *e = cache_find(c, p->public_key);
	size_t i;

	if (!e || !sockaddr_same(&e->endpoint, &p->endpoint))
		return NULL;
	for (i = 0; i < recs->n; i++)
		if (!memcmp(recs->v[i].key, p->public_key, KH_KEY_LEN))
			return NULL;
	return e;
}

/* The JSON array of list -j and export: one object per line. */
static void print_records_json(const struct kh_records *recs,
			       const struct wg_device *dev,
			       const struct kh_bdays *bd,
			       const struct cache *c)
{
	const struct wg_peer *peer = NULL;
	char key[KEY_B64_LEN + 1];
	bool first = true;
	size_t i;

	putchar('[');
	for (i = 0; i < recs->n; i++) {
		const struct kh_record *rec = &recs->v[i];

		if (dev && !(peer = wg_find_peer(dev, rec->key)))
			continue;
		fputs(first ? "\n{" : ",\n{", stdout);
		first = false;
		print_record_json(rec);
		if (dev) {
			const struct wg_peer *relay;
			const char *path = path_of(dev, bd, peer, rec, &relay);

			fputs(",\"wg_endpoint\":", stdout);
			print_endpoint_json(&peer->endpoint);
			printf(",\"path\":\"%s\",\"relay\":", path);
			if (relay) {
				key_to_base64(key, relay->public_key);
				printf("\"%s\"", key);
			} else {
				fputs("null", stdout);
			}
		}
		putchar('}');
	}
	for (i = 0; dev && i < dev->n_peers; i++) {
		const struct wg_peer *p = &dev->peers[i];

		if (!cached(recs, c, p))
			continue;
		key_to_base64(key, p->public_key);
		printf("%s{\"public_key\":\"%s\",\"endpoint\":", first ? "\n" : ",\n",
		       key);
		first = false;
		print_endpoint_json(&p->endpoint);
		fputs(",\"source\":\"cached\",\"candidates\":[],\"wg_endpoint\":",
		      stdout);
		print_endpoint_json(&p->endpoint);
		fputs(",\"path\":\"cached\",\"relay\":null}", stdout);
	}
	puts("\n]");
}

static void print_records(const struct kh_records *recs,
			  const struct wg_device *dev,
			  const struct kh_bdays *bd, const struct cache *c)
{
	const struct wg_peer *peer = NULL;
	char ep[ENDPOINT_STRLEN], key[KEY_B64_LEN + 1];
	size_t i;

	for (i = 0; i < recs->n; i++) {
		const struct kh_record *rec = &recs->v[i];

		if (dev && !(peer = wg_find_peer(dev, rec->key)))
			continue;
		print_record(rec);
		if (dev) {
			const struct wg_peer *relay;
			const char *path = path_of(dev, bd, peer, rec, &relay);

			if (!peer->endpoint.ss_family ||
			    format_endpoint(&peer->endpoint, ep, sizeof(ep)))
				strcpy(ep, "(none)");
			printf("  wg endpoint %s  path %s", ep, path);
			if (relay) {
				key_to_base64(key, relay->public_key);
				printf(" via %s", key);
			}
		}
		putchar('\n');
	}
	for (i = 0; dev && i < dev->n_peers; i++) {
		const struct wg_peer *p = &dev->peers[i];

		if (!cached(recs, c, p))
			continue;
		key_to_base64(key, p->public_key);
		format_endpoint(&p->endpoint, ep, sizeof(ep));
		printf("%s  %s  cached (no record)  wg endpoint %s  path cached\n",
		       key, ep, ep);
	}
}

/* list [DEV] and export DEV (records only: cached peers are not) */
int peers_list(const char *name, bool json, bool export)
{
	struct kh_records recs = { 0 };
	struct wg_device *dev = NULL;
	struct kh_bdays bd = { 0 };
	struct cache c = { 0 };
	struct khnl nl;
	int code = 1, ret;

	buffer_stdout();
	if (kh_open(&nl))
		return 1;
	if (name && open_device(&nl, name, 0, &dev))
		goto out;
	if (peers_dump(&nl, &recs))
		goto out;
	ret = dev ? kh_dump_bdays(&nl, &bd) : 0;
	if (ret) {
		khnl_perror(&nl, ret, "reading the birthday sessions");
		goto out;
	}
	if (!export)
		read_cache(dev, &c);
	if (json)
		print_records_json(&recs, dev, &bd, &c);
	else
		print_records(&recs, dev, &bd, &c);
	code = fflush(stdout) ? 1 : 0;
out:
	cache_free(&c);
	kh_bdays_free(&bd);
	kh_records_free(&recs);
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

