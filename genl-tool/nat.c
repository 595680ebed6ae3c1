// SPDX-License-Identifier: GPL-2.0
/*
 * What a round's answers say about the NAT in front of our port
 * (netcheck_analyze() on them), and telling the reflectors when that is
 * news, for peers sync and netcheck alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "util.h"

/* What this round's answers tell about our NAT. */
int round_analyze(const struct sync *s, struct netcheck *nc)
{
	struct nc_answer *a;
	size_t i;

	a = calloc(s->n_refl + 1, sizeof(*a));
	if (!a) {
		kh_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < s->n_refl; i++) {
		a[i].refl = s->refl[i].addr;
		if (s->refl[i].answered)
			a[i].seen = s->refl[i].seen_as;
		/* only a reflector with the mesh key answers from elsewhere */
		a[i].alt_asked = s->refl[i].alt_asked && s->refl[i].auth;
		a[i].alt_answered = s->refl[i].alt_answered;
		if (s->refl[i].second_answered)
			a[i].seen2 = s->refl[i].second_seen;
	}
	netcheck_analyze(a, s->n_refl, s->dev->listen_port, nc);
	free(a);
	return 0;
}

/*
 * A verdict of either family into flag of *nat: yes sets it, no clears it
 * (yes wins), unknown in both leaves it as it was.  True: it was told.
 */
static bool nat_bit(int *nat, uint8_t flag, enum nc_verdict v4,
		    enum nc_verdict v6, enum nc_verdict yes)
{
	enum nc_verdict no = yes == NC_YES ? NC_NO : NC_YES;

	if (v4 == yes || v6 == yes)
		*nat |= flag;
	else if (v4 == no || v6 == no)
		*nat &= ~flag;
	else
		return false;
	return true;
}

/*
 * What the round's answers say about our NAT (netcheck's verdicts): when
 * that is news, tell the reflectors now, so that the peers learn it with
 * our record before they choose how to reach us.  Every later request says
 * it too.  A verdict this round could not tell keeps its last value: sync
 * never asks for the other-port answer (landing on a router that accepts
 * new WAN packets, it broke the safe start), so filtering is told only by
 * netcheck under the mesh key.
 */
void tell_nat(struct sync *s)
{
	uint8_t nonce[KH_NONCE_LEN];
	struct netcheck nc;
	bool told;
	int nat;
	size_t i;

	if (round_analyze(s, &nc))
		return;
	nat = s->nat < 0 ? 0 : s->nat;
	told = nat_bit(&nat, KH_RECORD_F_VARIES, nc.v4.varies, nc.v6.varies,
		       NC_YES);
	told |= nat_bit(&nat, KH_RECORD_F_FILTERED, nc.v4.port_filtered,
			nc.v6.port_filtered, NC_YES);
	told |= nat_bit(&nat, KH_RECORD_F_PORT_MOVED, nc.v4.port_kept,
			nc.v6.port_kept, NC_NO);
	/* s->nat began as what the port says: only news goes out */
	if (!told || nat == s->nat)
		return;
	s->nat = nat;
	for (i = 0; i < s->n_refl; i++)
		if (s->refl[i].answered && s->refl[i].auth)
			kh_probe_nat(&s->nl, s->dev->listen_port,
				     &s->refl[i].addr, s->dev->public_key,
				     (uint8_t)nat, nonce);
}
