/* SPDX-License-Identifier: GPL-2.0 */
/* Just enough TAP for the host unit tests: "ok N - name", plan at the end. */
#ifndef KHCTL_TAP_H
#define KHCTL_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tap {
	int n;
	int failed;
};

static inline __attribute__((format(printf, 3, 4)))
bool tap_ok(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		t->failed++;
	return ok;
}

static inline void tap_skip(struct tap *t, const char *name, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++t->n, name, why);
}

static inline int tap_done(struct tap *t)
{
	printf("1..%d\n", t->n);
	if (t->failed)
		printf("# %d of %d failed\n", t->failed, t->n);
	fflush(stdout);
	return t->failed ? 1 : 0;
}

#endif
