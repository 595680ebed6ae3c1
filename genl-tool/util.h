/* SPDX-License-Identifier: GPL-2.0 */
/* Parsing and formatting with no netlink in it, unit-tested on the host. */
#ifndef KHCTL_UTIL_H
#define KHCTL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* "[" INET6_ADDRSTRLEN "%" scope "]:" port, with room to spare */
#define ENDPOINT_STRLEN	80

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

void kh_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int parse_endpoint(const char *s, struct sockaddr_storage *ss,
		   socklen_t *len, const char **why);
int sockaddr_from_bytes(const void *data, size_t len,
			struct sockaddr_storage *ss);
socklen_t sockaddr_len(const struct sockaddr_storage *ss);
int format_endpoint(const struct sockaddr_storage *ss, char *buf,
		    size_t size);

size_t json_escape(char *dst, size_t size, const char *src);
void json_print_string(FILE *f, const char *s);

#endif
