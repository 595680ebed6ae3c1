/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/kh_reflect.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_KH_REFLECT_GEN_H
#define _LINUX_KH_REFLECT_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/kh_reflect.h>
#include <linux/kh_reflect.h>

/* Ops table for kh_reflect */
extern const struct genl_split_ops kh_reflect_nl_ops[16];

int kh_reflect_nl_get_status_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_watch_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_unwatch_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_probe_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_get_reflections_dumpit(struct sk_buff *skb,
					 struct netlink_callback *cb);
int kh_reflect_nl_set_key_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_set_config_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_get_peer_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_get_peers_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb);
int kh_reflect_nl_set_peer_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_del_peer_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_flush_peers_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_start_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_birthday_doit(struct sk_buff *skb, struct genl_info *info);
int kh_reflect_nl_birthday_end_doit(struct sk_buff *skb,
				    struct genl_info *info);
int kh_reflect_nl_get_birthdays_dumpit(struct sk_buff *skb,
				       struct netlink_callback *cb);

enum {
	KH_REFLECT_NLGRP_EVENTS,
};

#endif /* _LINUX_KH_REFLECT_GEN_H */
