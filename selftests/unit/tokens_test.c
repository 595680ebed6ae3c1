// SPDX-License-Identifier: GPL-2.0
/* The rate limiter's token bucket (kmod/tokens.h), in userspace. */
#include <stdio.h>
#include "user_types.h"
#include "tokens.h"

static int n, failed;

static void ok(bool cond, const char *what)
{
	n++;
	failed += !cond;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

int main(void)
{
	const u64 cost = 100, max = 1000;
	u64 tokens = max, last = 5000;
	int i, got = 0;

	for (i = 0; i < 20; i++)
		got += kh_tokens_take(&tokens, &last, 5000, cost, max);
	ok(got == 10, "a full bucket gives max / cost at once");

	/* a clock read older than the last one refills nothing */
	got = 0;
	for (i = 0; i < 20; i++)
		got += kh_tokens_take(&tokens, &last, 4000, cost, max);
	ok(got == 0 && last == 5000, "now < last: no refill, last kept");

	ok(!kh_tokens_take(&tokens, &last, 5050, cost, max),
	   "half a token's time is not a token");
	ok(kh_tokens_take(&tokens, &last, 5100, cost, max) && tokens == 0,
	   "a token's time is one token");

	tokens = 0;
	last = 0;
	kh_tokens_take(&tokens, &last, UINT64_MAX, cost, max);
	ok(tokens == max - cost, "a huge gap fills to max, no wrap");
	tokens = max - 1;
	last = 0;
	kh_tokens_take(&tokens, &last, UINT64_MAX, 0, max);
	ok(tokens == max, "at max stays max");
	printf("1..%d\n", n);
	return failed != 0;
}
