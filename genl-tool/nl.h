/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small netlink layer: one request socket shared by both families, one
 * error path that keeps the kernel's -errno and its extack message.
 */
#ifndef KHCTL_NL_H
#define KHCTL_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>

struct khnl {
	struct nl_sock *sk;
	int kh_family;		/* 0 until resolved */
	int wg_family;
	char ext_msg[256];	/* extack message of the last request, or "" */
};

/* Called for every data message of a reply; a negative -errno fails it. */
typedef int (*khnl_parse_fn)(struct nl_msg *msg, void *arg);

int khnl_open(struct khnl *nl);
void khnl_close(struct khnl *nl);
int khnl_resolve(struct khnl *nl, const char *name);
struct nl_msg *khnl_msg(int family, uint8_t cmd, uint8_t version, int flags);
int khnl_request(struct khnl *nl, struct nl_msg *msg, khnl_parse_fn parse,
		 void *arg);
void khnl_perror(const struct khnl *nl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int khnl_events_open(struct khnl *nl, const char *family, const char *group,
		     struct nl_sock **out);
int khnl_events_read(struct nl_sock *sk, khnl_parse_fn parse, void *arg);

int nlerr_to_errno(int nlerr);
bool extack_msg(const struct nlmsghdr *nlh, char *buf, size_t size);

#endif
