// SPDX-License-Identifier: GPL-2.0
/*
 * A small JSON reader for khctl peers import: recursive descent over the
 * whole document, strict RFC 8259 grammar, line numbers kept for errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *p, *end;
	unsigned int line;
	int depth;
	struct json_error *err;
};

static int parse_value(struct parser *ps, struct json_value *v);

static __attribute__((format(printf, 2, 3)))
int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	ps->err->line = ps->line;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* What stands at p, for an error message. */
static const char *found(const struct parser *ps, char *buf, size_t size)
{
	unsigned char c;

	if (ps->p >= ps->end)
		return "the end of the input";
	c = (unsigned char)*ps->p;
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else if (c == '\n')
		snprintf(buf, size, "a line end");
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

static int unexpected(struct parser *ps, const char *want)
{
	char buf[16];

	return fail(ps, "expected %s, found %s", want,
		    found(ps, buf, sizeof(buf)));
}

static void skip_ws(struct parser *ps)
{
	for (; ps->p < ps->end; ps->p++) {
		if (*ps->p == '\n')
			ps->line++;
		else if (*ps->p != ' ' && *ps->p != '\t' && *ps->p != '\r')
			break;
	}
}

static bool at(const struct parser *ps, char c)
{
	return ps->p < ps->end && *ps->p == c;
}

static int hex4(struct parser *ps, const char *s, unsigned int *out)
{
	unsigned int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return fail(ps, "\\u needs four hex digits");
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *d, unsigned int cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* After \u: one code point, a surrogate pair taken whole. */
static int unicode_escape(struct parser *ps, const char *s, const char *end,
			  unsigned int *cp, size_t *used)
{
	unsigned int hi, lo;

	if (end - s < 4)
		return fail(ps, "\\u needs four hex digits");
	if (hex4(ps, s, &hi))
		return -EINVAL;
	*used = 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(ps, "\\u%04x: a low surrogate alone", hi);
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (end - s < 10 || s[4] != '\\' || s[5] != 'u')
			return fail(ps, "\\u%04x: a high surrogate alone", hi);
		if (hex4(ps, s + 6, &lo))
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, "\\u%04x: a high surrogate alone", hi);
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		*used = 10;
	}
	if (!hi)
		return fail(ps, "\\u0000 is not allowed in a string");
	*cp = hi;
	return 0;
}

/* At the opening quote.  Escapes never grow: the raw span bounds the size. */
static int parse_string(struct parser *ps, char **out, size_t *out_len)
{
	const char *s = ps->p + 1, *q = s;
	size_t n = 0;
	char *d;

	while (q < ps->end && *q != '"')
		q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
	if (q >= ps->end)
		return fail(ps, "unterminated string");
	d = malloc((size_t)(q - s) + 1);
	if (!d)
		return fail(ps, "out of memory");

	while (s < q) {
		unsigned char c = (unsigned char)*s;
		unsigned int cp = 0;
		size_t used = 0;

		if (c < 0x20) {
			free(d);
			return fail(ps, "control character 0x%02x in a string (escape it)",
				    c);
		}
		if (c != '\\') {
			d[n++] = (char)c;
			s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			d[n++] = *s;
			break;
		case 'b':
			d[n++] = '\b';
			break;
		case 'f':
			d[n++] = '\f';
			break;
		case 'n':
			d[n++] = '\n';
			break;
		case 'r':
			d[n++] = '\r';
			break;
		case 't':
			d[n++] = '\t';
			break;
		case 'u':
			if (unicode_escape(ps, s + 1, q, &cp, &used)) {
				free(d);
				return -EINVAL;
			}
			n += put_utf8(d + n, cp);
			s += used;
			break;
		default:
			free(d);
			if ((unsigned char)*s >= 0x21 && (unsigned char)*s < 0x7f)
				return fail(ps, "unknown escape '\\%c'", *s);
			return fail(ps, "unknown escape in a string");
		}
		s++;
	}
	d[n] = '\0';
	ps->p = q + 1;
	*out = d;
	*out_len = n;
	return 0;
}

static bool digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int parse_number(struct parser *ps, struct json_value *v)
{
	const char *s = ps->p, *p = s;
	bool is_uint = true;
	uint64_t u = 0;
	char buf[64];

	if (p < ps->end && *p == '-') {
		is_uint = false;
		p++;
	}
	if (!digit(p, ps->end)) {
		ps->p = p;
		return unexpected(ps, "a digit");
	}
	if (*p == '0') {
		p++;
		if (digit(p, ps->end)) {
			ps->p = p;
			return fail(ps, "a number must not start with 0");
		}
	} else {
		for (; digit(p, ps->end); p++) {
			unsigned int d = (unsigned int)(*p - '0');

			if (u > UINT64_MAX / 10 ||
			    (u == UINT64_MAX / 10 && d > UINT64_MAX % 10))
				is_uint = false;
			if (is_uint)
				u = u * 10 + d;
		}
	}
	if (p < ps->end && *p == '.') {
		is_uint = false;
		if (!digit(++p, ps->end)) {
			ps->p = p;
			return unexpected(ps, "a digit after '.'");
		}
		while (digit(p, ps->end))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		is_uint = false;
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit(p, ps->end)) {
			ps->p = p;
			return unexpected(ps, "a digit in the exponent");
		}
		while (digit(p, ps->end))
			p++;
	}
	if ((size_t)(p - s) >= sizeof(buf))
		return fail(ps, "number too long");
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	v->type = JSON_NUMBER;
	v->num.d = strtod(buf, NULL);
	v->num.is_uint = is_uint;
	v->num.u = is_uint ? u : 0;
	ps->p = p;
	return 0;
}

static int parse_literal(struct parser *ps, struct json_value *v)
{
	static const struct {
		const char *word;
		enum json_type type;
		bool b;
	} words[] = {
		{ "true", JSON_BOOL, true },
		{ "false", JSON_BOOL, false },
		{ "null", JSON_NULL, false },
	};
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i].word);
		if ((size_t)(ps->end - ps->p) >= n &&
		    !memcmp(ps->p, words[i].word, n)) {
			v->type = words[i].type;
			v->b = words[i].b;
			ps->p += n;
			return 0;
		}
	}
	return unexpected(ps, "a value");
}

/* Room for one more element; arrays of values or of members alike. */
static void *grow(void *base, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 4;
	void *p;

	if (n < *cap)
		return base;
	p = reallocarray(base, c, size);
	if (p)
		*cap = c;
	return p;
}

static int parse_array(struct parser *ps, struct json_value *v)
{
	size_t cap = 0;
	void *p;
	int ret;

	v->type = JSON_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (at(ps, ']')) {
		ps->p++;
		return 0;
	}
	for (;;) {
		p = grow(v->arr.v, v->arr.n, &cap, sizeof(*v->arr.v));
		if (!p)
			return fail(ps, "out of memory");
		v->arr.v = p;
		ret = parse_value(ps, &v->arr.v[v->arr.n]);
		if (ret) {
			/* not counted yet: json_free() would miss it */
			json_free(&v->arr.v[v->arr.n]);
			return ret;
		}
		v->arr.n++;
		skip_ws(ps);
		if (at(ps, ']')) {
			ps->p++;
			return 0;
		}
		if (!at(ps, ','))
			return unexpected(ps, "',' or ']'");
		ps->p++;
		skip_ws(ps);
		if (at(ps, ']'))
			return fail(ps, "a ',' before ']'");
	}
}

static int parse_object(struct parser *ps, struct json_value *v)
{
	struct json_member *m;
	size_t cap = 0, len;
	int ret;

	v->type = JSON_OBJECT;
	ps->p++;
	skip_ws(ps);
	if (at(ps, '}')) {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (!at(ps, '"'))
			return unexpected(ps, "a member name in double quotes");
		m = grow(v->obj.m, v->obj.n, &cap, sizeof(*v->obj.m));
		if (!m)
			return fail(ps, "out of memory");
		v->obj.m = m;
		m = &v->obj.m[v->obj.n];
		memset(m, 0, sizeof(*m));
		m->line = ps->line;
		ret = parse_string(ps, &m->key, &len);
		if (ret)
			return ret;
		/* counted now, so that json_free() frees its name */
		v->obj.n++;
		skip_ws(ps);
		if (!at(ps, ':'))
			return unexpected(ps, "':'");
		ps->p++;
		ret = parse_value(ps, &m->value);
		if (ret)
			return ret;
		skip_ws(ps);
		if (at(ps, '}')) {
			ps->p++;
			return 0;
		}
		if (!at(ps, ','))
			return unexpected(ps, "',' or '}'");
		ps->p++;
		skip_ws(ps);
		if (at(ps, '}'))
			return fail(ps, "a ',' before '}'");
	}
}

static int parse_value(struct parser *ps, struct json_value *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	skip_ws(ps);
	v->line = ps->line;
	if (ps->p >= ps->end)
		return unexpected(ps, "a value");
	switch (*ps->p) {
	case '{':
	case '[':
		/* the stack must not be the limit: a deep file is an error */
		if (++ps->depth > JSON_MAX_DEPTH)
			return fail(ps, "nested deeper than %d levels",
				    JSON_MAX_DEPTH);
		ret = *ps->p == '{' ? parse_object(ps, v) : parse_array(ps, v);
		ps->depth--;
		return ret;
	case '"':
		v->type = JSON_STRING;
		return parse_string(ps, &v->str.s, &v->str.len);
	case '-':
	case '0' ... '9':
		return parse_number(ps, v);
	default:
		return parse_literal(ps, v);
	}
}

/*
 * Parses the whole of text.  On failure *out is left empty and err says
 * where and why; either way json_free(out) is safe.
 */
int json_parse(const char *text, size_t len, struct json_value *out,
	       struct json_error *err)
{
	struct parser ps = {
		.p = text, .end = text + len, .line = 1, .err = err,
	};
	int ret;

	memset(err, 0, sizeof(*err));
	ret = parse_value(&ps, out);
	if (!ret) {
		skip_ws(&ps);
		if (ps.p < ps.end)
			ret = unexpected(&ps, "the end of the input");
	}
	if (ret) {
		json_free(out);
		return ret;
	}
	return 0;
}

void json_free(struct json_value *v)
{
	size_t i;

	switch (v->type) {
	case JSON_STRING:
		free(v->str.s);
		break;
	case JSON_ARRAY:
		for (i = 0; i < v->arr.n; i++)
			json_free(&v->arr.v[i]);
		free(v->arr.v);
		break;
	case JSON_OBJECT:
		for (i = 0; i < v->obj.n; i++) {
			free(v->obj.m[i].key);
			json_free(&v->obj.m[i].value);
		}
		free(v->obj.m);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof(*v));
}

/* The member named key; the last one if the name repeats, as most do. */
const struct json_value *json_get(const struct json_value *obj,
				  const char *key)
{
	size_t i;

	if (obj->type != JSON_OBJECT)
		return NULL;
	for (i = obj->obj.n; i-- > 0;)
		if (!strcmp(obj->obj.m[i].key, key))
			return &obj->obj.m[i].value;
	return NULL;
}

const char *json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	}
	return "?";
}
