/* SPDX-License-Identifier: GPL-2.0 */
/* khctl peers: what peers_list.c gives the other subcommands (cmd_peers.c). */
#ifndef KHCTL_PEERS_H
#define KHCTL_PEERS_H

#include <stdbool.h>

#include "kh.h"

int peers_dump(struct khnl *nl, struct kh_records *recs);
int peers_list(const char *name, bool json, bool export);

#endif
