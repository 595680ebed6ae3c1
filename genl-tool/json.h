/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for khctl peers import: the whole document as a tree,
 * every value with the line it starts on, so errors can name the line.
 */
#ifndef KHCTL_JSON_H
#define KHCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	64

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	enum json_type type;
	unsigned int line;
	union {
		bool b;
		struct {
			double d;
			bool is_uint;	/* no sign, fraction or exponent */
			uint64_t u;	/* valid when is_uint */
		} num;
		struct {
			char *s;	/* UTF-8; \u0000 is refused */
			size_t len;
		} str;
		struct {
			struct json_value *v;
			size_t n;
		} arr;
		struct {
			struct json_member *m;
			size_t n;
		} obj;
	};
};

struct json_member {
	char *key;
	unsigned int line;
	struct json_value value;
};

struct json_error {
	unsigned int line;
	char msg[128];
};

int json_parse(const char *text, size_t len, struct json_value *out,
	       struct json_error *err);
void json_free(struct json_value *v);
const struct json_value *json_get(const struct json_value *obj,
				  const char *key);
const char *json_type_name(enum json_type type);

#endif
