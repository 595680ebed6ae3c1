// SPDX-License-Identifier: GPL-2.0
/* Printing records and changes: peers, sync and monitor say them alike. */
#include <string.h>

#include "cache.h"
#include "show.h"
#include "util.h"

/*
 * KEY  ENDPOINT  SOURCE [via REFLECTOR]  age 12s  expires 588s [NAT ...]
 * [LAN CANDIDATE, ...], no newline
 */
void print_record(const struct kh_record *rec)
{
	char key[KEY_B64_LEN + 1], ep[ENDPOINT_STRLEN], via[ENDPOINT_STRLEN];
	struct sockaddr_storage c;
	size_t i;

	key_to_base64(key, rec->key);
	format_endpoint(&rec->endpoint, ep, sizeof(ep));
	printf("%s  %s  %s", key, ep, kh_source_name(rec->source));
	if (rec->reflector.ss_family &&
	    !format_endpoint(&rec->reflector, via, sizeof(via)))
		printf(" via %s", via);
	printf("  age %us  expires %us", rec->age_ms / 1000,
	       rec->expires_ms / 1000);
	if (rec->flags & KH_RECORD_F_NAT) {
		fputs("  NAT ", stdout);
		print_nat(rec->flags);
	}
	for (i = 0; i < rec->n_cands; i++) {
		kh_record_cand(rec, i, &c);
		if (!format_endpoint(&c, ep, sizeof(ep)))
			printf("%s%s", i ? ", " : "  LAN ", ep);
	}
}

/* KH_RECORD_F_NAT bits in words, "mapping varies, filters by port". */
void print_nat(uint8_t flags)
{
	static const struct {
		uint8_t flag;
		const char *what;
	} words[] = {
		{ KH_RECORD_F_VARIES, "mapping varies by destination" },
		{ KH_RECORD_F_FILTERED, "filters by port" },
		{ KH_RECORD_F_PORT_MOVED, "port moved" },
	};
	const char *sep = "";
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(flags & words[i].flag))
			continue;
		printf("%s%s", sep, words[i].what);
		sep = ", ";
	}
}

/* The NAT bits as JSON members, each after a comma. */
void print_nat_json(uint8_t flags)
{
	printf(",\"varies\":%s,\"filtered\":%s,\"port_moved\":%s",
	       flags & KH_RECORD_F_VARIES ? "true" : "false",
	       flags & KH_RECORD_F_FILTERED ? "true" : "false",
	       flags & KH_RECORD_F_PORT_MOVED ? "true" : "false");
}

/* The members of a record object, without the braces. */
void print_record_json(const struct kh_record *rec)
{
	char key[KEY_B64_LEN + 1];
	struct sockaddr_storage c;
	size_t i;

	key_to_base64(key, rec->key);
	printf("\"public_key\":\"%s\",\"endpoint\":", key);
	print_endpoint_json(&rec->endpoint);
	printf(",\"source\":\"%s\",\"port\":%u,\"reflector\":",
	       kh_source_name(rec->source), rec->port);
	print_endpoint_json(&rec->reflector);
	printf(",\"age_ms\":%u,\"expires_ms\":%u,\"waiting\":%s", rec->age_ms,
	       rec->expires_ms,
	       rec->flags & KH_RECORD_F_WAITING ? "true" : "false");
	print_nat_json(rec->flags);
	fputs(",\"candidates\":[", stdout);
	for (i = 0; i < rec->n_cands; i++) {
		kh_record_cand(rec, i, &c);
		if (i)
			putchar(',');
		print_endpoint_json(&c);
	}
	putchar(']');
}

/* How a change started the path, or NULL when nothing special. */
static const char *start_name(uint8_t start)
{
	switch (start) {
	case APPLY_START_HOLD:
		return "hold";
	case APPLY_START_FIRST:
		return "first";
	}
	return NULL;
}

/* wg0: KEY endpoint OLD -> NEW (learned via R) */
void print_change(const char *name, const struct change *ch)
{
	char key[KEY_B64_LEN + 1], old[ENDPOINT_STRLEN], new[ENDPOINT_STRLEN];
	char via[ENDPOINT_STRLEN];
	const char *src;

	key_to_base64(key, ch->key);
	if (!ch->old_ep.ss_family || format_endpoint(&ch->old_ep, old, sizeof(old)))
		strcpy(old, "(none)");
	format_endpoint(&ch->new_ep, new, sizeof(new));
	printf("%s: %s endpoint %s -> %s", name, key, old, new);
	/* a cached endpoint may be WireGuard's own, of no record */
	src = ch->path == APPLY_PATH_CACHED ? cache_source_name(ch->source) :
	      kh_source_name(ch->source);
	if (ch->via.ss_family && !format_endpoint(&ch->via, via, sizeof(via)))
		printf(" (%s via %s)", src, via);
	else
		printf(" (%s)", src);
	if (ch->path == APPLY_PATH_RELAYED)
		fputs(", relayed: no direct path answered", stdout);
	else if (ch->path == APPLY_PATH_BIRTHDAY)
		fputs(", birthday: the pair that birthday probing found",
		      stdout);
	else if (ch->path == APPLY_PATH_CACHED)
		fputs(", cached: no reflector answered", stdout);
	else if (ch->path == APPLY_PATH_LAN)
		fputs(", lan: the peer's own address answered", stdout);
	if (ch->start == APPLY_START_HOLD)
		fputs(", safe start: we hold, the peer sends first", stdout);
	else if (ch->start == APPLY_START_FIRST)
		fputs(", safe start: the peer holds, we send first", stdout);
	putchar('\n');
}

/* "ADDR:PORT" or null */
void print_endpoint_json(const struct sockaddr_storage *ss)
{
	char buf[ENDPOINT_STRLEN];

	if (ss->ss_family && !format_endpoint(ss, buf, sizeof(buf)))
		json_print_string(stdout, buf);
	else
		fputs("null", stdout);
}

/* The members of a change object, without the braces. */
void print_change_json(const struct change *ch)
{
	char key[KEY_B64_LEN + 1];

	key_to_base64(key, ch->key);
	printf("\"public_key\":\"%s\",\"old\":", key);
	print_endpoint_json(&ch->old_ep);
	fputs(",\"new\":", stdout);
	print_endpoint_json(&ch->new_ep);
	fputs(",\"via\":", stdout);
	print_endpoint_json(&ch->via);
	printf(",\"path\":\"%s\"", ch->path == APPLY_PATH_RELAYED ?
	       "relayed" : ch->path == APPLY_PATH_BIRTHDAY ? "birthday" :
	       ch->path == APPLY_PATH_CACHED ? "cached" :
	       ch->path == APPLY_PATH_LAN ? "lan" : "direct");
	fputs(",\"start\":", stdout);
	if (start_name(ch->start))
		printf("\"%s\"", start_name(ch->start));
	else
		fputs("null", stdout);
}
