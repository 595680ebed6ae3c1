/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel type names for building kmod/probe.c in userspace. */
#ifndef _KH_USER_TYPES_H
#define _KH_USER_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif
