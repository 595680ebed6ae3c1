// SPDX-License-Identifier: GPL-2.0
/* Parsing and formatting with no netlink in it, unit-tested on the host. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void kh_err(const char *fmt, ...)
{
	va_list ap;

	fputs("khctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Decimal digits only: strtoul() would accept signs, blanks and hex, and
 * "-1" would become a huge timeout.
 */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int parse_port(const char *s, uint16_t *port, const char **why)
{
	uint32_t v;

	if (!*s) {
		*why = "missing port";
		return -EINVAL;
	}
	if (parse_u32(s, 1, 65535, &v)) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static int parse_v6(const char *s, struct sockaddr_in6 *sin6, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *end;
	uint16_t port;
	size_t n;

	end = strchr(s, ']');
	if (!end) {
		*why = "missing ']'";
		return -EINVAL;
	}
	if (end[1] != ':') {
		*why = "missing port";
		return -EINVAL;
	}
	n = (size_t)(end - s - 1);
	if (n == 0 || n >= sizeof(host)) {
		*why = "not an IPv6 address";
		return -EINVAL;
	}
	memcpy(host, s + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		*why = "not an IPv6 address";
		return -EINVAL;
	}
	if (parse_port(end + 2, &port, why))
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return 0;
}

static int parse_v4(const char *s, struct sockaddr_in *sin, const char **why)
{
	char host[INET_ADDRSTRLEN];
	const char *end;
	uint16_t port;
	size_t n;

	end = strchr(s, ':');
	if (!end) {
		*why = "missing port";
		return -EINVAL;
	}
	if (strchr(end + 1, ':')) {
		*why = "an IPv6 address needs brackets: [2001:db8::1]:51820";
		return -EINVAL;
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(host)) {
		*why = "not an IPv4 address";
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	/* inet_pton() takes dotted quads only, unlike inet_aton("1.2") */
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		*why = "not an IPv4 address";
		return -EINVAL;
	}
	if (parse_port(end + 1, &port, why))
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return 0;
}

/* "192.0.2.1:51820" or "[2001:db8::1]:51820": literal addresses only. */
int parse_endpoint(const char *s, struct sockaddr_storage *ss,
		   socklen_t *len, const char **why)
{
	const char *dummy;
	int ret;

	if (!why)
		why = &dummy;
	memset(ss, 0, sizeof(*ss));
	if (!s || !*s) {
		*why = "empty address";
		return -EINVAL;
	}
	if (*s == '[')
		ret = parse_v6(s, (struct sockaddr_in6 *)ss, why);
	else
		ret = parse_v4(s, (struct sockaddr_in *)ss, why);
	if (ret) {
		memset(ss, 0, sizeof(*ss));
		return ret;
	}
	*len = sockaddr_len(ss);
	return 0;
}

/*
 * Netlink carries endpoints as raw struct sockaddr_in{,6}: accept exactly
 * those sizes with the matching family, nothing else.
 */
int sockaddr_from_bytes(const void *data, size_t len,
			struct sockaddr_storage *ss)
{
	sa_family_t family;

	memset(ss, 0, sizeof(*ss));
	if (len < sizeof(family))
		return -EINVAL;
	memcpy(&family, data, sizeof(family));
	if (!((family == AF_INET && len == sizeof(struct sockaddr_in)) ||
	      (family == AF_INET6 && len == sizeof(struct sockaddr_in6))))
		return -EINVAL;
	memcpy(ss, data, len);
	return 0;
}

socklen_t sockaddr_len(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	}
	return 0;
}

int format_endpoint(const struct sockaddr_storage *ss, char *buf,
		    size_t size)
{
	char host[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 1] = "";
	int n;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		if (!inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)))
			return -errno;
		n = snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		char ifname[IF_NAMESIZE];

		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)))
			return -errno;
		if (sin6->sin6_scope_id) {
			if (if_indextoname(sin6->sin6_scope_id, ifname))
				snprintf(scope, sizeof(scope), "%%%s", ifname);
			else
				snprintf(scope, sizeof(scope), "%%%u",
					 sin6->sin6_scope_id);
		}
		n = snprintf(buf, size, "[%s%s]:%u", host, scope,
			     ntohs(sin6->sin6_port));
	} else {
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return 0;
}

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		/* overlong forms and UTF-16 surrogates */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

struct sink {
	char *dst;
	size_t size;
	size_t len;
};

static void put(struct sink *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->len++)
		if (o->len + 1 < o->size)
			o->dst[o->len] = s[i];
}

/*
 * snprintf() semantics: returns the length the escaped string needs, writes
 * at most size bytes including the NUL.  Interface names are bytes, not
 * text: invalid UTF-8 becomes U+FFFD so the output is always valid JSON.
 */
size_t json_escape(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	struct sink o = { .dst = dst, .size = size };
	char esc[8];

	while (*s) {
		size_t n = utf8_len(s);

		if (!n) {
			put(&o, "\\ufffd", 6);
			s++;
			continue;
		}
		switch (*s) {
		case '"':
			put(&o, "\\\"", 2);
			break;
		case '\\':
			put(&o, "\\\\", 2);
			break;
		case '\n':
			put(&o, "\\n", 2);
			break;
		case '\r':
			put(&o, "\\r", 2);
			break;
		case '\t':
			put(&o, "\\t", 2);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *s);
				put(&o, esc, 6);
			} else {
				put(&o, (const char *)s, n);
			}
		}
		s += n;
	}
	if (size)
		dst[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

/* Prints s as a quoted JSON string. */
void json_print_string(FILE *f, const char *s)
{
	char small[128], *buf = small;
	size_t n = json_escape(NULL, 0, s);

	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf) {
			fputs("null", f);
			return;
		}
	}
	json_escape(buf, n + 1, s);
	fprintf(f, "\"%s\"", buf);
	if (buf != small)
		free(buf);
}

/*
 * Same address and port.  The IPv6 scope counts only when both sides have
 * one: records never carry it, WireGuard does for link-local peers.
 */
bool sockaddr_same(const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr)) &&
		       (!x->sin6_scope_id || !y->sin6_scope_id ||
			x->sin6_scope_id == y->sin6_scope_id);
	}
	return false;
}

/*
 * An order on endpoints, the same on every node: family (IPv4 first), then
 * address, then port, in network order; the IPv6 scope does not count.
 */
int sockaddr_cmp(const struct sockaddr_storage *a,
		 const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	int c;

	if (a->ss_family != b->ss_family)
		return a->ss_family == AF_INET ? -1 :
		       b->ss_family == AF_INET ? 1 :
		       a->ss_family < b->ss_family ? -1 : 1;
	if (a->ss_family == AF_INET) {
		c = memcmp(&a4->sin_addr, &b4->sin_addr, sizeof(a4->sin_addr));
		return c ? c : memcmp(&a4->sin_port, &b4->sin_port,
				      sizeof(a4->sin_port));
	}
	if (a->ss_family != AF_INET6)
		return 0;
	c = memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
	return c ? c : memcmp(&a6->sin6_port, &b6->sin6_port,
			      sizeof(a6->sin6_port));
}

/* The same address, whatever the ports (and IPv6 scopes). */
bool sockaddr_same_addr(const struct sockaddr_storage *a,
			const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->
			sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->
			sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->
				sin6_addr,
			       &((const struct sockaddr_in6 *)(const void *)b)->
				sin6_addr, sizeof(struct in6_addr));
	return false;
}

/*
 * What the module takes as an endpoint: a unicast address and a port.
 * Checked before sending, so that a bad import changes nothing.
 */
bool endpoint_is_unicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		uint32_t a = ntohl(sin->sin_addr.s_addr);

		return sin->sin_port && (a >> 24) != 0 &&
		       (a >> 28) != 0xe && a != 0xffffffff;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		return sin6->sin6_port &&
		       !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
		       !IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr);
	}
	return false;
}

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* dst has room for 4 * ((len + 2) / 3) characters and the NUL. */
void base64_encode(char *dst, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 |
			     src[i + 2];

		*dst++ = b64_chars[v >> 18];
		*dst++ = b64_chars[(v >> 12) & 63];
		*dst++ = b64_chars[(v >> 6) & 63];
		*dst++ = b64_chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)src[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)src[i + 1] << 8;
		*dst++ = b64_chars[v >> 18];
		*dst++ = b64_chars[(v >> 12) & 63];
		*dst++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		*dst++ = '=';
	}
	*dst = '\0';
}

/*
 * 0..63, or -1.  Mesh keys go through here: no branch and no table indexed
 * by the secret character, as in wg(8).  Each term is a mask that is all
 * ones only when c lies in its range.
 */
static int b64_value(unsigned char ch)
{
	int c = ch, v = -1;

	v += ((('A' - 1 - c) & (c - ('Z' + 1))) >> 8) & (c - 64);
	v += ((('a' - 1 - c) & (c - ('z' + 1))) >> 8) & (c - 70);
	v += ((('0' - 1 - c) & (c - ('9' + 1))) >> 8) & (c + 5);
	v += ((('+' - 1 - c) & (c - ('+' + 1))) >> 8) & 63;
	v += ((('/' - 1 - c) & (c - ('/' + 1))) >> 8) & 64;
	return v;
}

/*
 * Strict standard base64: padded, no blanks, unused bits zero, so that one
 * key has exactly one spelling.  *out_len is the decoded length whenever
 * the text is valid; -EMSGSIZE (nothing written) if it exceeds size.
 */
int base64_decode(const char *src, size_t len, uint8_t *dst, size_t size,
		  size_t *out_len)
{
	size_t pad = 0, n, i, o = 0;
	unsigned int bad = 0;

	*out_len = 0;
	if (len % 4)
		return -EINVAL;
	if (len && src[len - 1] == '=')
		pad = len >= 2 && src[len - 2] == '=' ? 2 : 1;
	n = len / 4 * 3 - pad;

	for (i = 0; i < len - pad; i++)
		bad |= (unsigned int)b64_value((unsigned char)src[i]) >> 8;
	if (bad)
		return -EINVAL;
	/* the bits a short last group leaves over must be zero */
	if (pad == 1 && (b64_value((unsigned char)src[len - 2]) & 3))
		return -EINVAL;
	if (pad == 2 && (b64_value((unsigned char)src[len - 3]) & 15))
		return -EINVAL;
	*out_len = n;
	if (n > size)
		return -EMSGSIZE;

	for (i = 0; i < len; i += 4) {
		uint32_t v = 0;
		unsigned int j;

		for (j = 0; j < 4; j++)
			v = v << 6 | (uint32_t)(b64_value((unsigned char)src[i + j]) & 63);
		dst[o++] = (uint8_t)(v >> 16);
		if (o < n)
			dst[o++] = (uint8_t)(v >> 8);
		if (o < n)
			dst[o++] = (uint8_t)v;
	}
	return 0;
}

void key_to_base64(char dst[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN])
{
	base64_encode(dst, key, KEY_LEN);
}

/* Exactly the 44 characters of a 32-byte key; -EINVAL otherwise. */
int key_from_base64(uint8_t key[KEY_LEN], const char *s)
{
	size_t len = strlen(s), n;

	if (len != KEY_B64_LEN ||
	    base64_decode(s, len, key, KEY_LEN, &n) || n != KEY_LEN)
		return -EINVAL;
	return 0;
}
