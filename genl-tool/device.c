// SPDX-License-Identifier: GPL-2.0
/* A WireGuard device and its watch: what several commands start with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "util.h"

/* Reads DEV from WireGuard; says why not, and returns -errno, if it can't. */
int open_device(struct khnl *nl, const char *name, unsigned int need,
		struct wg_device **out)
{
	struct wg_device *dev;
	int ret;

	*out = NULL;
	ret = wg_get_device(nl, name, 0, &dev);
	if (ret) {
		wg_perror(nl, ret, name);
		return ret;
	}
	if ((need & DEV_NEED_PORT) && !dev->listen_port) {
		kh_err("%s has no listen port yet", name);
		wg_device_free(dev);
		return -EADDRNOTAVAIL;
	}
	if ((need & DEV_NEED_KEY) && !dev->has_public_key) {
		kh_err("%s has no private key yet: peers could not tell who we are",
		       name);
		wg_device_free(dev);
		return -ENOKEY;
	}
	wg_sort_peers(dev);
	*out = dev;
	return 0;
}

int ports_add(struct ports *p, uint16_t port)
{
	uint16_t *v = reallocarray(p->v, p->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->v = v;
	p->v[p->n++] = port;
	return 0;
}

/*
 * Unwatches every watch that match() picks from the status; a watch that
 * vanished meanwhile is not an error.
 */
int unwatch_matching(struct khnl *nl, struct ports *done,
		     bool (*match)(const struct kh_watch *w, const void *arg),
		     const void *arg)
{
	struct kh_status st;
	size_t i;
	int ret;

	ret = kh_get_status(nl, &st);
	if (ret) {
		khnl_perror(nl, ret, "reading the status");
		return ret;
	}
	for (i = 0; i < st.n_watches; i++) {
		const struct kh_watch *w = &st.watches[i];

		if (!match(w, arg))
			continue;
		ret = kh_unwatch(nl, w->port);
		if (ret == -ENOENT)
			continue;
		if (!ret)
			ret = ports_add(done, w->port);
		if (ret) {
			khnl_perror(nl, ret, "unwatching port %u", w->port);
			break;
		}
	}
	kh_status_free(&st);
	return ret == -ENOENT ? 0 : ret;
}

static bool is_stale(const struct kh_watch *w, const void *arg)
{
	const struct wg_device *dev = arg;

	return w->ifindex == dev->ifindex && w->port != dev->listen_port;
}

/*
 * What "khctl reflect enable" does: watch the listen port, labelled with
 * the device, and drop the ports the device listened on before, which only
 * use up one of few slots.  Errors are printed; *watched says whether the
 * port is watched, even when dropping an old one failed.
 */
int watch_device(struct khnl *nl, const struct wg_device *dev,
		 const char *name, struct ports *dropped, bool *watched)
{
	int ret;

	*watched = false;
	ret = kh_watch(nl, dev->listen_port, dev->ifindex,
		       dev->ifname[0] ? dev->ifname : name, dev->fwmark);
	if (ret) {
		khnl_perror(nl, ret, "watching %s port %u", name,
			    dev->listen_port);
		return ret;
	}
	*watched = true;
	return unwatch_matching(nl, dropped, is_stale, dev);
}

/* The watch of port: 0 and *out, or -ENOENT. */
int find_watch(struct khnl *nl, uint16_t port, struct kh_watch *out)
{
	struct kh_status st;
	size_t i;
	int ret;

	ret = kh_get_status(nl, &st);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (i = 0; i < st.n_watches; i++) {
		if (st.watches[i].port == port) {
			*out = st.watches[i];
			ret = 0;
			break;
		}
	}
	kh_status_free(&st);
	return ret;
}

/*
 * Watches DEV's listen port unless it already is, as "reflect enable"
 * would; *has_key tells whether the watch has a mesh key.  A new watch
 * may have one: when the device's port changed, the module moves the old
 * watch, key and all, so it is read back.  Errors are printed.
 */
int ensure_watched(struct khnl *nl, const struct wg_device *dev,
		   const char *name, bool *has_key, bool *newly)
{
	struct ports dropped = { 0 };
	struct kh_watch w;
	int ret;

	*has_key = false;
	*newly = false;
	ret = find_watch(nl, dev->listen_port, &w);
	if (!ret && w.fwmark != dev->fwmark) {
		/* wg set DEV fwmark changed it: the module's packets follow */
		ret = kh_watch(nl, dev->listen_port, dev->ifindex,
			       dev->ifname[0] ? dev->ifname : name, dev->fwmark);
		if (ret) {
			khnl_perror(nl, ret, "setting the fwmark of %s port %u",
				    name, dev->listen_port);
			return ret;
		}
	}
	if (!ret) {
		*has_key = w.has_key;
		return 0;
	}
	if (ret != -ENOENT) {
		khnl_perror(nl, ret, "reading the status");
		return ret;
	}
	ret = watch_device(nl, dev, name, &dropped, newly);
	free(dropped.v);
	if (ret)
		return ret;
	ret = find_watch(nl, dev->listen_port, &w);
	if (ret) {
		khnl_perror(nl, ret, "reading the watch of %s port %u", name,
			    dev->listen_port);
		return ret;
	}
	*has_key = w.has_key;
	return 0;
}
