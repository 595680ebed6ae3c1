/* SPDX-License-Identifier: GPL-2.0 */
/* khctl peers import: the whole input checked before anything changes. */
#ifndef KHCTL_IMPORT_H
#define KHCTL_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "json.h"
#include "util.h"
#include "wg.h"

/* The module's range for KH_A_RECORD_TTL. */
#define IMPORT_TTL_MAX	86400

struct import_rec {
	uint8_t key[KEY_LEN];
	struct sockaddr_storage endpoint;
	uint32_t ttl_s;			/* 0: none given, the table's */
	unsigned int line;
};

int import_parse(const char *text, size_t len, const struct wg_device *dev,
		 struct import_rec **out, size_t *n, struct json_error *err);
uint32_t import_ttl(uint64_t expires_ms);

#endif
