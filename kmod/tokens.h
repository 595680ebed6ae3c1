/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A token bucket, the rate limiter's arithmetic: pure, so that it also
 * builds in userspace for the unit tests (selftests/unit/tokens_test.c).
 */
#ifndef KH_TOKENS_H
#define KH_TOKENS_H

/*
 * Refill @tokens for the time since @last (ns), at most to @max; take
 * @cost.  A clock read that comes out older than @last (two CPUs' reads
 * racing for the lock, say) refills nothing and leaves @last alone: the
 * unsigned difference would otherwise wrap and fill the bucket.
 */
static inline bool kh_tokens_take(u64 *tokens, u64 *last, u64 now, u64 cost,
				  u64 max)
{
	if (now > *last) {
		u64 fill = now - *last;

		/* no sum that could wrap either */
		*tokens = fill > max || *tokens > max - fill ? max :
			  *tokens + fill;
		*last = now;
	}
	if (*tokens < cost)
		return false;
	*tokens -= cost;
	return true;
}

#endif
