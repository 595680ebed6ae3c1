/* SPDX-License-Identifier: GPL-2.0 */
/* Printing records and changes: peers, sync and monitor say them alike. */
#ifndef KHCTL_SHOW_H
#define KHCTL_SHOW_H

#include <sys/socket.h>

#include "apply.h"
#include "kh.h"

void print_endpoint_json(const struct sockaddr_storage *ss);
void print_record(const struct kh_record *rec);
void print_record_json(const struct kh_record *rec);
void print_nat(uint8_t flags);
void print_nat_json(uint8_t flags);
void print_change(const char *name, const struct change *ch);
void print_change_json(const struct change *ch);

#endif
