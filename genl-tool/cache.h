/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What peers sync last applied to a device's peers, kept on disk so that a
 * reboot while every reflector is gone still finds them: the file's format
 * and the choice of what to apply, pure (cache.c); reading, writing and
 * applying it are sync_cache.c's.
 */
#ifndef KHCTL_CACHE_H
#define KHCTL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "util.h"

#define CACHE_VERSION		1
#define CACHE_DEFAULT_DIR	"/var/lib/khctl"
#define CACHE_DIR_ENV		"KHCTL_STATE_DIR"
/* far above what any device's peers need: a bigger file is not ours */
#define CACHE_MAX_BYTES		(16u << 20)

enum cache_path {
	CACHE_PATH_DIRECT,	/* the peer's endpoint, set and used as is */
	CACHE_PATH_BIRTHDAY,	/* the pair that birthday probing found */
	CACHE_PATH_RELAYED,	/* relayed through via; endpoint is the
				 * peer's own, as its record had it
				 */
};

/*
 * source: enum kh_source (observed, pushed, learned), or 0 when WireGuard
 * alone knew the endpoint (the peer reached us from there).
 */
struct cache_entry {
	uint8_t key[KEY_LEN];
	struct sockaddr_storage endpoint;
	struct sockaddr_storage via;	/* the reflector; ss_family 0: none */
	uint8_t path;			/* enum cache_path */
	uint8_t source;
	int64_t when_ms;		/* wall clock: when it was noted */
};

struct cache {
	uint8_t key[KEY_LEN];		/* the device's public key */
	bool has_key;
	struct cache_entry *v;
	size_t n, cap;
};

/* Why a file was not taken: cache_parse()'s errors besides -ENOMEM. */
enum cache_bad {
	CACHE_BAD_FORMAT = 1,	/* corrupt, truncated, not ours */
	CACHE_BAD_FOREIGN,	/* another device's key */
	CACHE_BAD_NEWER,	/* a version this khctl does not read */
};

enum cache_verdict {
	CACHE_NONE,		/* nothing usable cached for the peer */
	CACHE_SAME,		/* WireGuard has the cached endpoint */
	CACHE_KEEP,		/* WireGuard's endpoint is not a silent
				 * reflector: it may work, left alone
				 */
	CACHE_LIVE,		/* a live session: left alone */
	CACHE_SET,		/* set the cached endpoint */
};

void cache_free(struct cache *c);
bool cache_own(struct cache *c, const uint8_t key[KEY_LEN]);
struct cache_entry *cache_find(const struct cache *c,
			       const uint8_t key[KEY_LEN]);
int cache_note(struct cache *c, const struct cache_entry *e);
bool cache_forget(struct cache *c, const uint8_t key[KEY_LEN]);
int cache_parse(const char *text, size_t len, const uint8_t own[KEY_LEN],
		struct cache *c, char *why, size_t why_len);
int cache_write(const struct cache *c, const char *ifname, FILE *f);
enum cache_verdict cache_decide(const struct cache_entry *e,
				const struct sockaddr_storage *wg_ep,
				bool wg_ep_silent, int64_t handshake_ms,
				int64_t now_ms);
const char *cache_path_name(uint8_t path);
/* cache_file.c */
int cache_file_path(const char *dir, const char *ifname,
		    const uint8_t key[KEY_LEN], const char *prefix,
		    const char *suffix, char *buf, size_t size);
int cache_read_file(const char *path, char **text, size_t *len);
const char *cache_source_name(uint8_t source);

#endif
