/* SPDX-License-Identifier: GPL-2.0 */
/* A WireGuard device and its watch: what several commands start with. */
#ifndef KHCTL_DEVICE_H
#define KHCTL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kh.h"
#include "wg.h"

struct ports {
	uint16_t *v;
	size_t n;
};

/* What open_device() insists on, beyond the device itself. */
#define DEV_NEED_PORT	0x1	/* a listen port */
#define DEV_NEED_KEY	0x2	/* a private key, hence a public one */

int open_device(struct khnl *nl, const char *name, unsigned int need,
		struct wg_device **out);
int ports_add(struct ports *p, uint16_t port);
int unwatch_matching(struct khnl *nl, struct ports *done,
		     bool (*match)(const struct kh_watch *w, const void *arg),
		     const void *arg);
int watch_device(struct khnl *nl, const struct wg_device *dev,
		 const char *name, struct ports *dropped, bool *watched);
int find_watch(struct khnl *nl, uint16_t port, struct kh_watch *out);
int ensure_watched(struct khnl *nl, const struct wg_device *dev,
		   const char *name, bool *has_key, bool *newly);

#endif
