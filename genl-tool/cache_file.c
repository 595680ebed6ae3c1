// SPDX-License-Identifier: GPL-2.0
/*
 * Where a device's cache file is and how it is read (cache.c holds the
 * format): shared by peers sync, which keeps it, and peers list, which
 * shows what it holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

/*
 * DIR/PREFIX DEV.KEY.json SUFFIX, KEY the first 8 bytes of the device's
 * public key in hex: two hosts that share a state directory (network
 * namespaces of one machine, each with its wg0) keep their files apart,
 * and a device made again from its configuration (the same key) finds its
 * own.
 */
int cache_file_path(const char *dir, const char *ifname,
		    const uint8_t key[KEY_LEN], const char *prefix,
		    const char *suffix, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "%s/%s%s.%02x%02x%02x%02x%02x%02x%02x%02x.json%s",
			 dir, prefix, ifname, key[0], key[1], key[2], key[3],
			 key[4], key[5], key[6], key[7], suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The whole of fd, at most CACHE_MAX_BYTES: into *text (free it). */
static int read_all(int fd, char **text, size_t *len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *buf;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > CACHE_MAX_BYTES)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	/* one byte more than it should have: a file that grew is seen */
	while (n <= (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	*text = buf;
	*len = n;
	return 0;
}

/*
 * The file at @path into *text (free it), *len bytes: -ENOENT when there
 * is none, -EFBIG when it is too large to be ours, -EINVAL when it is not
 * a regular file (a link is not followed).
 */
int cache_read_file(const char *path, char **text, size_t *len)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ret = read_all(fd, text, len);
	close(fd);
	return ret;
}
