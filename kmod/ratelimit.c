// SPDX-License-Identifier: GPL-2.0
/*
 * How many probe requests get an answer: a token bucket per source address
 * (IPv6 per /64, as WireGuard's ratelimiter does), and one for the whole
 * namespace, so that spoofed sources cannot multiply the total.  When only
 * the namespace's is empty (under load), an authenticated request with the
 * cookie of its address still gets through (reflect.c): a flood from many
 * spoofed sources cannot starve the members, as WireGuard answers load with
 * cookies.
 */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/string.h>
#include "kh.h"
#include "tokens.h"

/*
 * A fixed table: a source that hashes to a taken slot takes it over.  That
 * can only give the evicted source a fresh bucket, never more than the
 * namespace's total, and it bounds the memory whatever the sources.
 */
#define RL_SLOTS	1024

struct kh_rl_slot {
	u8 key[16];
	u64 last_ns;
	u64 tokens;
};

void kh_ratelimit_init(struct kh_net *kn)
{
	spin_lock_init(&kn->rl_lock);
	get_random_bytes(&kn->rl_hash_key, sizeof(kn->rl_hash_key));
	kn->rl_rate = KH_RL_DEFAULT_RATE;
	kn->rl_burst = KH_RL_DEFAULT_BURST;
	kn->rl_total = KH_RL_DEFAULT_TOTAL;
}

/* Process context, with the first watch: the hooks need it from then on. */
int kh_ratelimit_prepare(struct kh_net *kn)
{
	struct kh_rl_slot *slots;

	if (READ_ONCE(kn->rl_slots))
		return 0;
	slots = kvcalloc(RL_SLOTS, sizeof(*slots), GFP_KERNEL);
	if (!slots)
		return -ENOMEM;
	spin_lock_bh(&kn->rl_lock);
	if (!kn->rl_slots) {
		WRITE_ONCE(kn->rl_slots, slots);
		slots = NULL;
	}
	spin_unlock_bh(&kn->rl_lock);
	kvfree(slots);
	return 0;
}

void kh_ratelimit_exit(struct kh_net *kn)
{
	kvfree(kn->rl_slots);
	kn->rl_slots = NULL;
}

/*
 * May @src have an answer?  False with *@busy: only the namespace's budget
 * said no (its source's had room): the caller may let a sender that proved
 * its address through.
 */
bool kh_ratelimit_allow(struct kh_net *kn, const struct kh_endpoint *src,
			bool *busy)
{
	u64 now, cost, total_cost;
	struct kh_rl_slot *slot;
	u8 key[16] = {};
	bool ok = false;

	*busy = false;

	if (src->addr.sa_family == AF_INET) {
		memcpy(key, &src->addr4.sin_addr, 4);
		key[15] = 4;
	} else {
		memcpy(key, &src->addr6.sin6_addr, 8);
		key[15] = 6;
	}

	spin_lock_bh(&kn->rl_lock);
	/* Under the lock, as WireGuard's ratelimiter: the buckets' times only grow. */
	now = ktime_get_ns();
	if (!kn->rl_slots)
		goto out;
	slot = &kn->rl_slots[hsiphash(key, sizeof(key), &kn->rl_hash_key) %
			     RL_SLOTS];
	cost = NSEC_PER_SEC / kn->rl_rate;
	if (memcmp(slot->key, key, sizeof(key))) {
		memcpy(slot->key, key, sizeof(key));
		slot->tokens = cost * kn->rl_burst;
		slot->last_ns = now;
	}
	if (!kh_tokens_take(&slot->tokens, &slot->last_ns, now, cost,
			    cost * kn->rl_burst))
		goto out;
	/* The namespace may send a tenth of a second's worth at once. */
	total_cost = NSEC_PER_SEC / kn->rl_total;
	ok = kh_tokens_take(&kn->rl_total_tokens, &kn->rl_total_last, now,
			    total_cost, total_cost * max(kn->rl_total / 10, 1U));
	*busy = !ok;
out:
	spin_unlock_bh(&kn->rl_lock);
	return ok;
}

void kh_ratelimit_get(struct kh_net *kn, u32 *rate, u32 *burst, u32 *total)
{
	spin_lock_bh(&kn->rl_lock);
	*rate = kn->rl_rate;
	*burst = kn->rl_burst;
	*total = kn->rl_total;
	spin_unlock_bh(&kn->rl_lock);
}

/* Zero leaves a value as it is. */
void kh_ratelimit_set(struct kh_net *kn, u32 rate, u32 burst, u32 total)
{
	spin_lock_bh(&kn->rl_lock);
	kn->rl_rate = rate ?: kn->rl_rate;
	kn->rl_burst = burst ?: kn->rl_burst;
	kn->rl_total = total ?: kn->rl_total;
	spin_unlock_bh(&kn->rl_lock);
}
