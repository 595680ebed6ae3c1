// SPDX-License-Identifier: GPL-2.0
/*
 * What a round of peers sync says, for humans and as JSON: how each
 * reflector saw us, the changes made, and a change made between rounds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "show.h"
#include "sync.h"
#include "util.h"

/* How many silent reflectors the error message names. */
#define NAME_SILENT		4

void print_reflectors_json(const struct sync *s)
{
	size_t i;

	fputs("\"reflectors\":[", stdout);
	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];

		fputs(i ? ",{\"reflector\":" : "{\"reflector\":", stdout);
		print_endpoint_json(&r->addr);
		fputs(",\"endpoint\":", stdout);
		print_endpoint_json(r->answered ? &r->seen_as :
				    &(struct sockaddr_storage){ 0 });
		if (r->answered)
			printf(",\"rtt_us\":%u,\"auth\":%s}", r->rtt_us,
			       r->auth ? "true" : "false");
		else
			fputs(",\"rtt_us\":null,\"auth\":null}", stdout);
	}
	putchar(']');
}

void print_reflectors(const struct sync *s)
{
	char refl[ENDPOINT_STRLEN], ep[ENDPOINT_STRLEN];
	size_t i;

	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];

		format_endpoint(&r->addr, refl, sizeof(refl));
		if (!r->answered) {
			printf("reflector %s: no answer", refl);
			if (r->err)
				printf(" (cannot send: %s)", strerror(-r->err));
			putchar('\n');
			continue;
		}
		format_endpoint(&r->seen_as, ep, sizeof(ep));
		printf("reflector %s: we are seen as %s (rtt %uus)", refl, ep,
		       r->rtt_us);
		/* without the mesh key it hands out no records: say why */
		if (!r->auth && !s->netcheck)
			fputs(", not authenticated: is the mesh key the same there?",
			      stdout);
		putchar('\n');
	}
}

void print_report(const struct sync *s)
{
	size_t i;

	if (s->json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, s->name);
		putchar(',');
		print_reflectors_json(s);
		fputs(",\"changes\":[", stdout);
		for (i = 0; i < s->n_changes; i++) {
			fputs(i ? ",{" : "{", stdout);
			print_change_json(&s->changes[i]);
			putchar('}');
		}
		puts("]}");
		return;
	}
	print_reflectors(s);
	for (i = 0; i < s->n_changes; i++)
		print_change(s->name, &s->changes[i]);
}

void report_silence(const struct sync *s)
{
	char list[NAME_SILENT * (ENDPOINT_STRLEN + 2) + 32] = "", ep[ENDPOINT_STRLEN];
	size_t i, len = 0;

	for (i = 0; i < s->n_refl && i < NAME_SILENT; i++) {
		format_endpoint(&s->refl[i].addr, ep, sizeof(ep));
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? ", " : "", ep);
	}
	if (s->n_refl > NAME_SILENT)
		snprintf(list + len, sizeof(list) - len, " and %zu more",
			 s->n_refl - NAME_SILENT);
	kh_err("no reflector answered: %s", list);
}

/*
 * A change the path check made: in a round, kept for its report; between
 * rounds, said at once.
 */
void say_change(struct sync *s, const struct change *ch, bool in_round)
{
	if (in_round) {
		if (add_change(s, ch))
			kh_err("%s", strerror(ENOMEM));
		return;
	}
	note_change(s, ch);
	if (s->json) {
		fputs("{\"event\":\"change\",\"device\":", stdout);
		json_print_string(stdout, s->name);
		putchar(',');
		print_change_json(ch);
		puts("}");
	} else {
		print_change(s->name, ch);
	}
	fflush(stdout);
}

/* --watch: the network changed; a round comes at once. */
void say_network(const struct sync *s)
{
	if (s->json) {
		fputs("{\"event\":\"network\",\"device\":", stdout);
		json_print_string(stdout, s->name);
		puts("}");
	} else {
		printf("%s: the network changed: syncing now\n", s->name);
	}
	fflush(stdout);
}
