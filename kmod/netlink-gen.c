// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/kh_reflect.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/kh_reflect.h>
#include <linux/kh_reflect.h>

/* Integer value ranges */
static const struct netlink_range_validation kh_a_record_ttl_range = {
	.min	= 1ULL,
	.max	= 86400ULL,
};

static const struct netlink_range_validation kh_a_max_records_range = {
	.min	= 1ULL,
	.max	= 1048576ULL,
};

static const struct netlink_range_validation kh_a_rl_rate_range = {
	.min	= 1ULL,
	.max	= 10000000ULL,
};

static const struct netlink_range_validation kh_a_rl_burst_range = {
	.min	= 1ULL,
	.max	= 10000000ULL,
};

static const struct netlink_range_validation kh_a_rl_total_range = {
	.min	= 1ULL,
	.max	= 10000000ULL,
};

static const struct netlink_range_validation kh_a_start_hold_ms_range = {
	.min	= 1ULL,
	.max	= 600000ULL,
};

static const struct netlink_range_validation kh_a_relay_rate_range = {
	.min	= 1500ULL,
	.max	= 1000000000ULL,
};

static const struct netlink_range_validation kh_a_bday_count_range = {
	.min	= 1ULL,
	.max	= 65535ULL,
};

static const struct netlink_range_validation kh_a_bday_time_ms_range = {
	.min	= 1ULL,
	.max	= 600000ULL,
};

/* KH_CMD_WATCH - do */
static const struct nla_policy kh_reflect_watch_nl_policy[KH_A_FWMARK + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[KH_A_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
	[KH_A_FWMARK] = { .type = NLA_U32, },
};

/* KH_CMD_UNWATCH - do */
static const struct nla_policy kh_reflect_unwatch_nl_policy[KH_A_PORT + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* KH_CMD_PROBE - do */
static const struct nla_policy kh_reflect_probe_nl_policy[KH_A_NAT + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_REFLECTOR] = { .type = NLA_BINARY, },
	[KH_A_PUBKEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_WANT] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_ALT_PORT] = { .type = NLA_FLAG, },
	[KH_A_RELAY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_RELAY_END] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_NAT] = NLA_POLICY_MASK(NLA_U8, 0xe),
};

/* KH_CMD_SET_KEY - do */
static const struct nla_policy kh_reflect_set_key_nl_policy[KH_A_KEY + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_KEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
};

/* KH_CMD_SET_CONFIG - do */
static const struct nla_policy kh_reflect_set_config_nl_policy[KH_A_RELAY_RATE + 1] = {
	[KH_A_MAX_RECORDS] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_max_records_range),
	[KH_A_RECORD_TTL] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_record_ttl_range),
	[KH_A_RL_RATE] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_rl_rate_range),
	[KH_A_RL_BURST] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_rl_burst_range),
	[KH_A_RL_TOTAL] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_rl_total_range),
	[KH_A_RELAY_RATE] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_relay_rate_range),
};

/* KH_CMD_GET_PEER - do */
static const struct nla_policy kh_reflect_get_peer_nl_policy[KH_A_PUBKEY + 1] = {
	[KH_A_PUBKEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
};

/* KH_CMD_SET_PEER - do */
static const struct nla_policy kh_reflect_set_peer_nl_policy[KH_A_RECORD_TTL + 1] = {
	[KH_A_PUBKEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_ENDPOINT] = { .type = NLA_BINARY, },
	[KH_A_RECORD_TTL] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_record_ttl_range),
};

/* KH_CMD_DEL_PEER - do */
static const struct nla_policy kh_reflect_del_peer_nl_policy[KH_A_PUBKEY + 1] = {
	[KH_A_PUBKEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
};

/* KH_CMD_START - do */
static const struct nla_policy kh_reflect_start_nl_policy[KH_A_START_HOLD_MS + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_ENDPOINT] = { .type = NLA_BINARY, },
	[KH_A_START_TTL] = NLA_POLICY_MIN(NLA_U8, 1),
	[KH_A_START_HOLD_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_start_hold_ms_range),
};

/* KH_CMD_BIRTHDAY - do */
static const struct nla_policy kh_reflect_birthday_nl_policy[KH_A_BDAY_TIME_MS + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_PUBKEY] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_PEER] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
	[KH_A_ENDPOINT] = { .type = NLA_BINARY, },
	[KH_A_BDAY_MODE] = NLA_POLICY_RANGE(NLA_U8, 1, 2),
	[KH_A_BDAY_COUNT] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_bday_count_range),
	[KH_A_BDAY_RATE] = NLA_POLICY_RANGE(NLA_U32, 1, 1000),
	[KH_A_BDAY_TIME_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &kh_a_bday_time_ms_range),
	[KH_A_START_TTL] = NLA_POLICY_MIN(NLA_U8, 1),
};

/* KH_CMD_BIRTHDAY_END - do */
static const struct nla_policy kh_reflect_birthday_end_nl_policy[KH_A_PEER + 1] = {
	[KH_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[KH_A_PEER] = NLA_POLICY_EXACT_LEN(KH_KEY_LEN),
};

/* Ops table for kh_reflect */
const struct genl_split_ops kh_reflect_nl_ops[16] = {
	{
		.cmd	= KH_CMD_GET_STATUS,
		.doit	= kh_reflect_nl_get_status_doit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_WATCH,
		.doit		= kh_reflect_nl_watch_doit,
		.policy		= kh_reflect_watch_nl_policy,
		.maxattr	= KH_A_FWMARK,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_UNWATCH,
		.doit		= kh_reflect_nl_unwatch_doit,
		.policy		= kh_reflect_unwatch_nl_policy,
		.maxattr	= KH_A_PORT,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_PROBE,
		.doit		= kh_reflect_nl_probe_doit,
		.policy		= kh_reflect_probe_nl_policy,
		.maxattr	= KH_A_NAT,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= KH_CMD_GET_REFLECTIONS,
		.dumpit	= kh_reflect_nl_get_reflections_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= KH_CMD_SET_KEY,
		.doit		= kh_reflect_nl_set_key_doit,
		.policy		= kh_reflect_set_key_nl_policy,
		.maxattr	= KH_A_KEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_SET_CONFIG,
		.doit		= kh_reflect_nl_set_config_doit,
		.policy		= kh_reflect_set_config_nl_policy,
		.maxattr	= KH_A_RELAY_RATE,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_GET_PEER,
		.doit		= kh_reflect_nl_get_peer_doit,
		.policy		= kh_reflect_get_peer_nl_policy,
		.maxattr	= KH_A_PUBKEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= KH_CMD_GET_PEERS,
		.dumpit	= kh_reflect_nl_get_peers_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= KH_CMD_SET_PEER,
		.doit		= kh_reflect_nl_set_peer_doit,
		.policy		= kh_reflect_set_peer_nl_policy,
		.maxattr	= KH_A_RECORD_TTL,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_DEL_PEER,
		.doit		= kh_reflect_nl_del_peer_doit,
		.policy		= kh_reflect_del_peer_nl_policy,
		.maxattr	= KH_A_PUBKEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= KH_CMD_FLUSH_PEERS,
		.doit	= kh_reflect_nl_flush_peers_doit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_START,
		.doit		= kh_reflect_nl_start_doit,
		.policy		= kh_reflect_start_nl_policy,
		.maxattr	= KH_A_START_HOLD_MS,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_BIRTHDAY,
		.doit		= kh_reflect_nl_birthday_doit,
		.policy		= kh_reflect_birthday_nl_policy,
		.maxattr	= KH_A_BDAY_TIME_MS,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= KH_CMD_BIRTHDAY_END,
		.doit		= kh_reflect_nl_birthday_end_doit,
		.policy		= kh_reflect_birthday_end_nl_policy,
		.maxattr	= KH_A_PEER,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= KH_CMD_GET_BIRTHDAYS,
		.dumpit	= kh_reflect_nl_get_birthdays_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
};

static const struct genl_multicast_group kh_reflect_nl_mcgrps[] = {
	[KH_REFLECT_NLGRP_EVENTS] = { "events", },
};
