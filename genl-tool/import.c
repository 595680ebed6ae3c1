// SPDX-License-Identifier: GPL-2.0
/*
 * khctl peers import: the JSON that peers export prints, checked whole
 * before anything changes, errors naming the line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

static __attribute__((format(printf, 3, 4)))
int bad(struct json_error *err, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* expires_ms -> KH_A_RECORD_TTL: whole seconds, rounded up, in range. */
uint32_t import_ttl(uint64_t expires_ms)
{
	uint64_t s = expires_ms / 1000 + (expires_ms % 1000 != 0);

	if (s < 1)
		return 1;
	return s > IMPORT_TTL_MAX ? IMPORT_TTL_MAX : (uint32_t)s;
}

static int one(const struct json_value *o, const struct wg_device *dev,
	       struct import_rec *rec, struct json_error *err)
{
	const struct json_value *k, *ep, *exp;
	socklen_t len;
	const char *why;

	memset(rec, 0, sizeof(*rec));
	rec->line = o->line;
	if (o->type != JSON_OBJECT)
		return bad(err, o->line, "expected a record object, found %s",
			   json_type_name(o->type));

	k = json_get(o, "public_key");
	if (!k)
		return bad(err, o->line, "missing public_key");
	if (k->type != JSON_STRING)
		return bad(err, k->line, "public_key: expected a string, found %s",
			   json_type_name(k->type));
	if (key_from_base64(rec->key, k->str.s))
		return bad(err, k->line, "public_key: not a base64 key of %d bytes",
			   KEY_LEN);
	if (dev && !wg_find_peer(dev, rec->key))
		return bad(err, k->line, "public_key: %s is not a peer of %s",
			   k->str.s, dev->ifname);

	ep = json_get(o, "endpoint");
	if (!ep)
		return bad(err, o->line, "missing endpoint");
	if (ep->type != JSON_STRING)
		return bad(err, ep->line, "endpoint: expected ADDR:PORT, found %s",
			   json_type_name(ep->type));
	if (parse_endpoint(ep->str.s, &rec->endpoint, &len, &why))
		return bad(err, ep->line, "endpoint: expected ADDR:PORT (%s)",
			   why);
	if (!endpoint_is_unicast(&rec->endpoint))
		return bad(err, ep->line, "endpoint: %s is not a unicast address",
			   ep->str.s);

	exp = json_get(o, "expires_ms");
	if (exp && exp->type != JSON_NULL) {
		if (exp->type != JSON_NUMBER || !exp->num.is_uint)
			return bad(err, exp->line,
				   "expires_ms: expected a whole number of milliseconds");
		rec->ttl_s = import_ttl(exp->num.u);
	}
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct import_rec *x = a, *y = b;
	int c = memcmp(x->key, y->key, KEY_LEN);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The first repeated key, by line; the array is sorted on the way. */
static int duplicates(struct import_rec *v, size_t n, struct json_error *err)
{
	const struct import_rec *dup = NULL, *first = NULL;
	char key[KEY_B64_LEN + 1];
	size_t i;

	if (n < 2)
		return 0;
	qsort(v, n, sizeof(*v), cmp_rec);
	for (i = 1; i < n; i++) {
		if (memcmp(v[i].key, v[i - 1].key, KEY_LEN))
			continue;
		if (!dup || v[i].line < dup->line) {
			dup = &v[i];
			first = &v[i - 1];
		}
	}
	if (!dup)
		return 0;
	key_to_base64(key, dup->key);
	return bad(err, dup->line, "public_key: %s repeats the record on line %u",
		   key, first->line);
}

/*
 * An array of record objects: public_key and endpoint required,
 * expires_ms optional, anything else ignored (export's other fields).
 * dev NULL: keys are not checked against a device.  On error nothing is
 * returned and err says where.
 */
int import_parse(const char *text, size_t len, const struct wg_device *dev,
		 struct import_rec **out, size_t *n, struct json_error *err)
{
	struct import_rec *v = NULL;
	struct json_value doc;
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	ret = json_parse(text, len, &doc, err);
	if (ret)
		return ret;
	if (doc.type != JSON_ARRAY) {
		ret = bad(err, doc.line, "expected an array of records, found %s",
			  json_type_name(doc.type));
		goto out;
	}
	if (doc.arr.n) {
		v = calloc(doc.arr.n, sizeof(*v));
		if (!v) {
			ret = bad(err, doc.line, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < doc.arr.n; i++) {
		ret = one(&doc.arr.v[i], dev, &v[i], err);
		if (ret)
			goto out;
	}
	ret = duplicates(v, doc.arr.n, err);
	if (ret)
		goto out;
	*out = v;
	*n = doc.arr.n;
	v = NULL;
out:
	free(v);
	json_free(&doc);
	return ret;
}
