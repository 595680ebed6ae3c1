/* SPDX-License-Identifier: GPL-2.0 */
/* Parsing and formatting with no netlink in it, unit-tested on the host. */
#ifndef KHCTL_UTIL_H
#define KHCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* "[" INET6_ADDRSTRLEN "%" scope "]:" port, with room to spare */
#define ENDPOINT_STRLEN	80

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* WireGuard keys and mesh keys alike, and their base64 form, as wg(8) has it */
#define KEY_LEN		32
#define KEY_B64_LEN	44

void kh_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int parse_endpoint(const char *s, struct sockaddr_storage *ss,
		   socklen_t *len, const char **why);
int sockaddr_from_bytes(const void *data, size_t len,
			struct sockaddr_storage *ss);
socklen_t sockaddr_len(const struct sockaddr_storage *ss);
int format_endpoint(const struct sockaddr_storage *ss, char *buf,
		    size_t size);
int sockaddr_cmp(const struct sockaddr_storage *a,
		 const struct sockaddr_storage *b);
bool sockaddr_same(const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b);
bool sockaddr_same_addr(const struct sockaddr_storage *a,
			const struct sockaddr_storage *b);
bool endpoint_is_unicast(const struct sockaddr_storage *ss);

void base64_encode(char *dst, const uint8_t *src, size_t len);
int base64_decode(const char *src, size_t len, uint8_t *dst, size_t size,
		  size_t *out_len);
void key_to_base64(char dst[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN]);
int key_from_base64(uint8_t key[KEY_LEN], const char *s);

size_t json_escape(char *dst, size_t size, const char *src);
void json_print_string(FILE *f, const char *s);

#endif
