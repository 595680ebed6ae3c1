// SPDX-License-Identifier: GPL-2.0
/*
 * The cache of peers sync on disk, one file a device in the state
 * directory: read once a run, noted from every change and from the
 * sessions that work, written atomically when it changed, and set in a
 * round that no reflector answered (cache.c holds the rule and format).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

/* The device's cache file (cache_file_path()), with @prefix and @suffix. */
static int file_path(const struct sync *s, char *buf, size_t size,
		     const char *prefix, const char *suffix)
{
	if (!s->cache.has_key)
		return -ENOKEY;
	return cache_file_path(s->state_dir, s->name, s->cache.key, prefix,
			       suffix, buf, size);
}

/*
 * The device's file into s->cache, once a run and only once the device's
 * key is known.  A file that is not there is a first run; one that cannot
 * be taken is said and ignored: written anew at the next change.
 */
static void load_cache(struct sync *s)
{
	char path[PATH_MAX], why[256];
	struct cache c = { 0 };
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (s->cache_read || !s->state_dir || !s->dev ||
	    !s->dev->has_public_key)
		return;
	s->cache_read = true;
	cache_own(&s->cache, s->dev->public_key);
	if (file_path(s, path, sizeof(path), "", ""))
		return;
	ret = cache_read_file(path, &text, &len);
	if (ret == -ENOENT)
		return;
	if (ret) {
		kh_err("%s: ignoring the cache %s: %s", s->name, path,
		       ret == -EFBIG ? "too large to be khctl's" :
		       ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return;
	}
	ret = cache_parse(text, len, s->dev->public_key, &c, why, sizeof(why));
	free(text);
	if (ret == -ENOMEM)
		kh_err("%s: ignoring the cache %s: %s", s->name, path,
		       strerror(ENOMEM));
	else if (ret)
		kh_err("%s: ignoring the cache %s: %s%s", s->name, path,
		       ret == -CACHE_BAD_FORMAT ? "corrupt or truncated: " : "",
		       why);
	if (ret)
		return;
	cache_free(&s->cache);
	s->cache = c;
}

/*
 * A round that no reflector answered: each peer that cache_decide() says
 * gets its cached endpoint, and a punch and a handshake now, as a record
 * would; the peer's side does the same when it comes up.  No safe start:
 * no reflector tells the peer to wait, so both sides would hold.
 */
void apply_cache(struct sync *s)
{
	int64_t now = realtime_ms();
	struct kh_record rec;
	struct change ch;
	size_t i;
	ssize_t r;

	load_cache(s);
	if (!s->cache_read || !s->cache.n)
		return;
	for (i = 0; i < s->dev->n_peers; i++) {
		struct wg_peer *p = &s->dev->peers[i];
		const struct cache_entry *e = cache_find(&s->cache,
							 p->public_key);

		r = reflector_at(s, &p->endpoint);
		if (cache_decide(e, &p->endpoint, r >= 0 && !s->refl[r].answered,
				 p->last_handshake_ms, now) != CACHE_SET)
			continue;
		rec = (struct kh_record){
			.endpoint = e->endpoint,
			.reflector = e->via,
			.source = e->source,
		};
		memcpy(rec.key, e->key, KH_KEY_LEN);
		if (apply_record(&s->nl, s->dev, p, &rec, now, true, 0,
				 &ch) <= 0)
			continue;
		ch.path = APPLY_PATH_CACHED;
		if (add_change(s, &ch))
			kh_err("%s", strerror(ENOMEM));
		/* an idle peer would never try: traffic may not come */
		wg_nudge_peer(&s->nl, s->dev->ifindex, p);
	}
}

static void note(struct sync *s, const struct cache_entry *e)
{
	int ret = cache_note(&s->cache, e);

	if (ret < 0)
		kh_err("%s: the cache: %s", s->name, strerror(-ret));
	else if (ret)
		s->cache_dirty = true;
}

/*
 * A change made to WireGuard, into the cache.  A relay's address is no
 * place to find the peer after a reboot, as the relay is gone with its
 * reflector: the peer's own endpoint (its record's) is kept instead.
 */
void note_change(struct sync *s, const struct change *ch)
{
	struct cache_entry e = { .source = ch->source, .via = ch->via,
				 .endpoint = ch->new_ep };
	const struct cache_entry *old;
	struct kh_record rec;

	if (!s->state_dir || ch->path == APPLY_PATH_CACHED)
		return;
	load_cache(s);
	if (!s->cache_read)
		return;
	memcpy(e.key, ch->key, KH_KEY_LEN);
	e.when_ms = realtime_ms();
	e.path = ch->path == APPLY_PATH_BIRTHDAY ? CACHE_PATH_BIRTHDAY :
		 ch->path == APPLY_PATH_RELAYED ? CACHE_PATH_RELAYED :
		 CACHE_PATH_DIRECT;
	if (e.path == CACHE_PATH_RELAYED) {
		old = cache_find(&s->cache, ch->key);
		if (!kh_get_peer(&s->nl, ch->key, &rec) &&
		    !sockaddr_same(&rec.endpoint, &ch->new_ep))
			e.endpoint = rec.endpoint;
		else if (old)
			e.endpoint = old->endpoint;
		else
			return;
	}
	if (endpoint_is_unicast(&e.endpoint))
		note(s, &e);
}

/* Where peer p of the round's device is, in it. */
static size_t index_of(const struct sync *s, const struct wg_peer *p)
{
	return (size_t)(p - s->dev->peers);
}

/*
 * After a round: a peer with a live session at an endpoint that is no
 * relay is where it is, whatever the cache had (a first run with peers
 * already direct, a file that was ignored, WireGuard following a peer that
 * roamed); peers that left the device are forgotten.  Then the file, if
 * that changed anything.
 */
void keep_cache(struct sync *s)
{
	int64_t now = realtime_ms();
	struct cache_entry e;
	struct kh_record rec;
	size_t i;
	ssize_t r;

	if (!s->state_dir || !s->dev || !s->dev->has_public_key)
		return;
	load_cache(s);
	if (cache_own(&s->cache, s->dev->public_key))
		s->cache_dirty = true;
	for (i = 0; i < s->dev->n_peers; i++) {
		const struct wg_peer *p = &s->dev->peers[i];
		const struct cache_entry *old = cache_find(&s->cache,
							   p->public_key);

		if (apply_no_session(p->last_handshake_ms, now) ||
		    !endpoint_is_unicast(&p->endpoint) ||
		    (old && sockaddr_same(&old->endpoint, &p->endpoint)))
			continue;
		/* at a reflector's address that is not the peer's own */
		r = reflector_at(s, &p->endpoint);
		if (r >= 0 && s->refl[r].skip != index_of(s, p))
			continue;
		e = (struct cache_entry){ .endpoint = p->endpoint,
					  .path = CACHE_PATH_DIRECT,
					  .when_ms = now };
		memcpy(e.key, p->public_key, KH_KEY_LEN);
		if (!kh_get_peer(&s->nl, p->public_key, &rec) &&
		    sockaddr_same(&rec.endpoint, &p->endpoint)) {
			e.source = rec.source;
			e.via = rec.reflector;
		}
		note(s, &e);
	}
	for (i = s->cache.n; i-- > 0;)
		if (!wg_find_peer(s->dev, s->cache.v[i].key) &&
		    cache_forget(&s->cache, s->cache.v[i].key))
			s->cache_dirty = true;
	save_cache(s);
}

/* c into path, whole or not at all: a temporary file, synced, renamed. */
static int write_atomic(const struct sync *s, const char *path,
			const char *tmp_path)
{
	char tmp[PATH_MAX];
	int fd, dfd, ret;
	FILE *f;

	if (mkdir(s->state_dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s", tmp_path);
	/* mkstemp: mode 0600, whatever the umask lets more */
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = cache_write(&s->cache, s->name, f);
	if (fflush(f) && !ret)
		ret = -errno;
	if (!ret && fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		goto fail;
	/* the rename itself, on disk before we say it is */
	dfd = open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	unlink(tmp);
	return ret;
}

/*
 * The file, when the cache changed; never otherwise.  A failure is said
 * once (until another comes) and tried again after the next round.
 */
void save_cache(struct sync *s)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int ret;

	if (!s->state_dir || !s->cache_dirty || !s->cache.has_key)
		return;
	ret = file_path(s, path, sizeof(path), "", "");
	if (!ret)
		ret = file_path(s, tmp, sizeof(tmp), ".", ".XXXXXX");
	if (!ret)
		ret = write_atomic(s, path, tmp);
	if (!ret) {
		s->cache_dirty = false;
		s->cache_err = 0;
		return;
	}
	if (ret != s->cache_err)
		kh_err("%s: cannot write the cache in %s: %s", s->name,
		       s->state_dir, strerror(-ret));
	s->cache_err = ret;
}
