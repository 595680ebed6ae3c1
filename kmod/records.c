// SPDX-License-Identifier: GPL-2.0
/*
 * The per-namespace table of peer endpoint records, keyed by WireGuard
 * public key: bounded, expiring, and announced on the events group.
 */
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include "kh.h"

#define GC_INTERVAL	(5 * HZ)
#define NR_BUCKETS	BIT(KH_REC_HASH_BITS)

static struct kmem_cache *record_cache;

static struct hlist_head *bucket(struct kh_net *kn, const u8 *key)
{
	u64 h = siphash(key, KH_KEY_LEN, &kn->rec_hash_key);

	return &kn->rec_hash[h & (NR_BUCKETS - 1)];
}

static struct kh_record *find(struct kh_net *kn, const u8 *key)
{
	struct kh_record *rec;

	lockdep_assert_held(&kn->rec_lock);
	if (!kn->rec_hash)
		return NULL;
	hlist_for_each_entry(rec, bucket(kn, key), node)
		if (!memcmp(rec->key, key, KH_KEY_LEN))
			return rec;
	return NULL;
}

static void unlink_record(struct kh_net *kn, struct kh_record *rec)
{
	hlist_del(&rec->node);
	kn->rec_count--;
	kn->rec_gen++;
}

/* Take the expired records out under the lock; announce and free outside. */
static void gc_work(struct work_struct *work)
{
	struct kh_net *kn = container_of(to_delayed_work(work), struct kh_net,
					 rec_gc);
	unsigned int i, expired = 0;
	struct kh_record *rec;
	struct hlist_node *tmp;

	for (i = 0; i < NR_BUCKETS; i++) {
		HLIST_HEAD(dead);

		if (hlist_empty(&kn->rec_hash[i]))
			continue;
		spin_lock_bh(&kn->rec_lock);
		hlist_for_each_entry_safe(rec, tmp, &kn->rec_hash[i], node) {
			if (time_before(jiffies, rec->expires))
				continue;
			unlink_record(kn, rec);
			hlist_add_head(&rec->node, &dead);
		}
		spin_unlock_bh(&kn->rec_lock);
		hlist_for_each_entry_safe(rec, tmp, &dead, node) {
			kh_netlink_peer_event(kn, KH_EVENT_REMOVED, rec);
			kmem_cache_free(record_cache, rec);
			expired++;
		}
		cond_resched();
	}
	if (expired)
		this_cpu_add(kn->stats->v[KH_STAT_RECORDS_EXPIRED], expired);
	queue_delayed_work(system_power_efficient_wq, &kn->rec_gc, GC_INTERVAL);
}

void kh_records_init(struct kh_net *kn)
{
	spin_lock_init(&kn->rec_lock);
	get_random_bytes(&kn->rec_hash_key, sizeof(kn->rec_hash_key));
	kn->rec_max = KH_REC_DEFAULT_MAX;
	kn->rec_ttl_s = KH_REC_DEFAULT_TTL_S;
	INIT_DELAYED_WORK(&kn->rec_gc, gc_work);
}

/*
 * The table costs 128 KiB, so a namespace gets it only when it first needs
 * it: when a mesh key or a record is set, both in process context.
 */
int kh_records_prepare(struct kh_net *kn)
{
	struct hlist_head *hash;

	if (READ_ONCE(kn->rec_hash))
		return 0;
	hash = kvcalloc(NR_BUCKETS, sizeof(*hash), GFP_KERNEL);
	if (!hash)
		return -ENOMEM;
	spin_lock_bh(&kn->rec_lock);
	if (!kn->rec_hash) {
		WRITE_ONCE(kn->rec_hash, hash);
		hash = NULL;
		queue_delayed_work(system_power_efficient_wq, &kn->rec_gc,
				   GC_INTERVAL);
	}
	spin_unlock_bh(&kn->rec_lock);
	kvfree(hash);
	return 0;
}

static void flush(struct kh_net *kn, bool announce)
{
	unsigned int i;
	struct kh_record *rec;
	struct hlist_node *tmp;

	if (!kn->rec_hash)
		return;
	for (i = 0; i < NR_BUCKETS; i++) {
		HLIST_HEAD(dead);

		if (hlist_empty(&kn->rec_hash[i]))
			continue;
		spin_lock_bh(&kn->rec_lock);
		hlist_move_list(&kn->rec_hash[i], &dead);
		hlist_for_each_entry(rec, &dead, node) {
			kn->rec_count--;
			kn->rec_gen++;
		}
		spin_unlock_bh(&kn->rec_lock);
		hlist_for_each_entry_safe(rec, tmp, &dead, node) {
			if (announce)
				kh_netlink_peer_event(kn, KH_EVENT_REMOVED, rec);
			kmem_cache_free(record_cache, rec);
		}
		cond_resched();
	}
}

void kh_records_exit(struct kh_net *kn)
{
	if (!kn->rec_hash)
		return;
	cancel_delayed_work_sync(&kn->rec_gc);
	flush(kn, false);
	kvfree(kn->rec_hash);
	kn->rec_hash = NULL;
}

void kh_records_flush(struct kh_net *kn)
{
	flush(kn, true);
	kh_reflect_forget_given(kn);
	/*
	 * A relay stands on the records of both its peers, and so does
	 * birthday probing on its peer's.
	 */
	kh_relay_flush(kn);
	kh_bday_flush(kn, 0);
}

/* Do records @a and @b carry the same local candidates, in one order? */
static bool same_cands(const struct kh_record *a, const struct kh_record *b)
{
	return a->nr_cands == b->nr_cands &&
	       !memcmp(a->cands, b->cands, a->nr_cands * sizeof(a->cands[0]));
}

/*
 * Add or refresh the record @in->key.  A record confirmed more recently than
 * @in keeps its endpoint: a late or relayed report must not undo a fresh
 * one.  Announces additions and changes, and pushes them to those who asked.
 * -EALREADY: @in is the key's own request (@in->req_seq) and no newer than
 * one taken before, a replay; nothing changed.
 */
int kh_records_update(struct kh_net *kn, const struct kh_record *in,
		      unsigned int ttl_s)
{
	enum kh_event event = 0;
	struct kh_record *rec, snap;

	spin_lock_bh(&kn->rec_lock);
	if (!kn->rec_hash) {
		spin_unlock_bh(&kn->rec_lock);
		return -ENOENT;
	}
	rec = find(kn, in->key);
	/*
	 * A request of the key's own that is not newer than one already taken
	 * is a replay, from wherever it comes: nothing of it is used.
	 */
	if (rec && in->req_seq && in->req_seq <= rec->req_seq) {
		spin_unlock_bh(&kn->rec_lock);
		return -EALREADY;
	}
	if (!rec) {
		if (kn->rec_count >= kn->rec_max) {
			spin_unlock_bh(&kn->rec_lock);
			kh_stat_inc(kn, KH_STAT_RECORDS_REFUSED);
			return -ENOSPC;
		}
		rec = kmem_cache_zalloc(record_cache, GFP_ATOMIC);
		if (!rec) {
			spin_unlock_bh(&kn->rec_lock);
			return -ENOMEM;
		}
		memcpy(rec->key, in->key, KH_KEY_LEN);
		hlist_add_head(&rec->node, bucket(kn, in->key));
		kn->rec_count++;
		kn->rec_gen++;
		event = KH_EVENT_ADDED;
	} else if (time_after(rec->confirmed, in->confirmed) &&
		   !kh_endpoint_eq(&rec->endpoint, &in->endpoint)) {
		spin_unlock_bh(&kn->rec_lock);
		return 0;
	} else if (!kh_endpoint_eq(&rec->endpoint, &in->endpoint) ||
		   (rec->flags ^ in->flags) & KH_RECORD_F_NAT ||
		   (in->nr_cands && !same_cands(rec, in))) {
		/*
		 * Where it is, how its NAT maps, or where on its own LAN:
		 * news to who asked.
		 */
		event = KH_EVENT_CHANGED;
	}
	if (in->nr_cands) {
		rec->nr_cands = in->nr_cands;
		memcpy(rec->cands, in->cands, sizeof(rec->cands));
	}
	rec->endpoint = in->endpoint;
	rec->reflector = in->reflector;
	rec->lport = in->lport;
	rec->source = in->source;
	rec->flags = in->flags;
	rec->confirmed = in->confirmed;
	/* Learned and set records keep the key's own sequence. */
	if (in->req_seq)
		rec->req_seq = in->req_seq;
	rec->expires = jiffies + (ttl_s ?: kn->rec_ttl_s) * HZ;
	snap = *rec;
	spin_unlock_bh(&kn->rec_lock);

	if (event) {
		kh_netlink_peer_event(kn, event, &snap);
		kh_reflect_push(kn, &snap);
	}
	return 0;
}

bool kh_records_get(struct kh_net *kn, const u8 *key, struct kh_record *out)
{
	struct kh_record *rec;

	spin_lock_bh(&kn->rec_lock);
	rec = find(kn, key);
	if (rec && time_before(jiffies, rec->expires))
		*out = *rec;
	else
		rec = NULL;
	spin_unlock_bh(&kn->rec_lock);
	return rec;
}

int kh_records_del(struct kh_net *kn, const u8 *key)
{
	struct kh_record *rec;

	spin_lock_bh(&kn->rec_lock);
	rec = find(kn, key);
	if (rec)
		unlink_record(kn, rec);
	spin_unlock_bh(&kn->rec_lock);
	if (!rec)
		return -ENOENT;
	kh_netlink_peer_event(kn, KH_EVENT_REMOVED, rec);
	kmem_cache_free(record_cache, rec);
	/* As for a flush: what stood on the record goes with it. */
	kh_relay_forget(kn, key);
	kh_bday_end(kn, 0, key);
	return 0;
}

/*
 * One dump call: resume at bucket cb->args[0], entry cb->args[1] of it.  A
 * record added or removed between calls flags the dump as interrupted, so
 * the reader knows to dump again; refreshes do not.  Expired records that
 * the GC has not reclaimed yet are left out, as kh_records_get() does.
 */
int kh_records_dump(struct kh_net *kn, struct sk_buff *skb,
		    struct netlink_callback *cb)
{
	unsigned long b = cb->args[0], skip = cb->args[1], n;
	struct kh_record *rec;
	void *hdr;

	if (!READ_ONCE(kn->rec_hash))
		return 0;
	for (; b < NR_BUCKETS; b++, skip = 0) {
		n = 0;
		spin_lock_bh(&kn->rec_lock);
		cb->seq = kn->rec_gen;
		hlist_for_each_entry(rec, &kn->rec_hash[b], node) {
			if (n++ < skip || time_after_eq(jiffies, rec->expires))
				continue;
			hdr = kh_netlink_dump_hdr(skb, cb, KH_CMD_GET_PEERS);
			if (!hdr)
				goto full;
			if (kh_netlink_put_record(skb, rec)) {
				genlmsg_cancel(skb, hdr);
				goto full;
			}
			genlmsg_end(skb, hdr);
		}
		spin_unlock_bh(&kn->rec_lock);
	}
	cb->args[0] = b;
	cb->args[1] = 0;
	return skb->len;

full:
	spin_unlock_bh(&kn->rec_lock);
	cb->args[0] = b;
	cb->args[1] = n - 1;
	return skb->len;
}

void kh_records_limits(struct kh_net *kn, unsigned int *count,
		       unsigned int *max, unsigned int *ttl_s)
{
	spin_lock_bh(&kn->rec_lock);
	*count = kn->rec_count;
	*max = kn->rec_max;
	*ttl_s = kn->rec_ttl_s;
	spin_unlock_bh(&kn->rec_lock);
}

void kh_records_set_limits(struct kh_net *kn, unsigned int max,
			   unsigned int ttl_s)
{
	spin_lock_bh(&kn->rec_lock);
	if (max)
		kn->rec_max = max;
	if (ttl_s)
		kn->rec_ttl_s = ttl_s;
	spin_unlock_bh(&kn->rec_lock);
}

int __init kh_records_module_init(void)
{
	record_cache = KMEM_CACHE(kh_record, 0);
	return record_cache ? 0 : -ENOMEM;
}

void kh_records_module_exit(void)
{
	kmem_cache_destroy(record_cache);
}
