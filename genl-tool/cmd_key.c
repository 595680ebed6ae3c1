// SPDX-License-Identifier: GPL-2.0
/* khctl key generate|set|clear: the mesh key that authenticates probes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cmd.h"
#include "device.h"
#include "kh.h"
#include "util.h"

/* A key file holds 44 characters and some blanks; anything longer is not one. */
#define KEY_FILE_MAX	1024

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Written with write(), not stdio: stdio would keep a copy of the key in
 * its buffer, out of reach of explicit_bzero().
 */
static int generate(bool json)
{
	char line[KEY_B64_LEN + 16], b64[KEY_B64_LEN + 1];
	uint8_t key[KEY_LEN];
	size_t got = 0;
	int ret = 0, n;

	while (got < sizeof(key)) {
		ssize_t r = getrandom(key + got, sizeof(key) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			kh_err("getrandom: %s", strerror(errno));
			return 1;
		}
		got += (size_t)r;
	}
	key_to_base64(b64, key);
	n = snprintf(line, sizeof(line), json ? "{\"key\":\"%s\"}\n" : "%s\n",
		     b64);
	ret = write_all(STDOUT_FILENO, line, (size_t)n);
	if (ret)
		kh_err("writing the key: %s", strerror(-ret));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(line, sizeof(line));
	return ret ? 1 : 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* FILE or "-": one base64 key of exactly KEY_LEN bytes, blanks around it. */
static int read_key(const char *path, uint8_t key[KEY_LEN])
{
	const char *what = strcmp(path, "-") ? path : "stdin";
	char buf[KEY_FILE_MAX + 1], *s;
	size_t len = 0, n;
	int fd, ret = -EINVAL;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		ret = -errno;
		kh_err("%s: %s", path, strerror(-ret));
		return ret;
	}
	while (len < sizeof(buf)) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			kh_err("%s: %s", what, strerror(-ret));
			goto out;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	if (len > KEY_FILE_MAX) {
		kh_err("%s: too long to hold one key", what);
		goto out;
	}
	s = buf;
	while (len && blank(s[len - 1]))
		len--;
	while (len && blank(*s)) {
		s++;
		len--;
	}
	if (!len) {
		kh_err("%s: empty: no key in it (make one with khctl key generate)",
		       what);
		goto out;
	}
	switch (base64_decode(s, len, key, KEY_LEN, &n)) {
	case 0:
		if (n == KEY_LEN) {
			ret = 0;
			break;
		}
		/* fall through */
	case -EMSGSIZE:
		kh_err("%s: the key is %zu bytes long; a mesh key is %d (44 base64 characters)",
		       what, n, KEY_LEN);
		break;
	default:
		kh_err("%s: not a base64 key (44 characters such as khctl key generate prints)",
		       what);
	}
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret)
		explicit_bzero(key, KEY_LEN);
	return ret;
}

static void print_result(const char *name, uint16_t port, bool has_key,
			 bool json)
{
	if (json) {
		fputs("{\"ifname\":", stdout);
		json_print_string(stdout, name);
		printf(",\"port\":%u,\"has_key\":%s}\n", port,
		       has_key ? "true" : "false");
	} else if (has_key) {
		printf("mesh key set on %s (port %u)\n", name, port);
	} else {
		printf("mesh key cleared on %s (port %u)\n", name, port);
	}
}

static int set_key(const char *name, const char *path, bool json)
{
	static const uint8_t zero[KEY_LEN];
	struct wg_device *dev = NULL;
	uint8_t key[KEY_LEN];
	bool has_key, newly;
	struct khnl nl;
	int ret, code = 1;

	/* a bad file must fail before anything changes */
	if (read_key(path, key))
		return 1;
	if (!memcmp(key, zero, KEY_LEN)) {
		kh_err("%s: an all-zero key means no key: use khctl key clear %s",
		       strcmp(path, "-") ? path : "stdin", name);
		return 1;
	}
	if (kh_open(&nl))
		goto out_key;
	if (open_device(&nl, name, DEV_NEED_PORT, &dev))
		goto out;
	if (ensure_watched(&nl, dev, name, &has_key, &newly))
		goto out;
	if (newly && !json)
		printf("watching %s port %u\n", name, dev->listen_port);
	ret = kh_set_key(&nl, dev->listen_port, key);
	if (ret) {
		khnl_perror(&nl, ret, "setting the mesh key on %s port %u",
			    name, dev->listen_port);
		goto out;
	}
	print_result(name, dev->listen_port, true, json);
	code = fflush(stdout) ? 1 : 0;
out:
	wg_device_free(dev);
	khnl_close(&nl);
out_key:
	explicit_bzero(key, sizeof(key));
	return code;
}

static int clear_key(const char *name, bool json)
{
	static const uint8_t zero[KEY_LEN];
	struct wg_device *dev = NULL;
	struct kh_watch w;
	struct khnl nl;
	int ret, code = 1;

	if (kh_open(&nl))
		return 1;
	if (open_device(&nl, name, DEV_NEED_PORT, &dev))
		goto out;
	ret = find_watch(&nl, dev->listen_port, &w);
	if (ret == -ENOENT) {
		/* nothing to clear: the goal is reached, not an error */
		if (!json)
			printf("no mesh key on %s: port %u is not watched\n",
			       name, dev->listen_port);
		else
			print_result(name, dev->listen_port, false, json);
		code = fflush(stdout) ? 1 : 0;
		goto out;
	}
	if (!ret)
		ret = kh_set_key(&nl, dev->listen_port, zero);
	if (ret) {
		khnl_perror(&nl, ret, "clearing the mesh key on %s port %u",
			    name, dev->listen_port);
		goto out;
	}
	print_result(name, dev->listen_port, false, json);
	code = fflush(stdout) ? 1 : 0;
out:
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	const char *action;
	bool json;
	int ret, n;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (optind == argc)
		return cmd_usage_error(cmd, "missing action");
	action = argv[optind++];
	n = argc - optind;
	if (!strcmp(action, "generate")) {
		if (n)
			return cmd_usage_error(cmd, "generate takes no argument");
		return generate(json);
	}
	if (!strcmp(action, "set")) {
		if (n != 2)
			return cmd_usage_error(cmd, "usage: key set DEV FILE|-");
		return set_key(argv[optind], argv[optind + 1], json);
	}
	if (!strcmp(action, "clear")) {
		if (n != 1)
			return cmd_usage_error(cmd, "usage: key clear DEV");
		return clear_key(argv[optind], json);
	}
	return cmd_usage_error(cmd, "unknown action '%s'", action);
}

const struct cmd cmd_key = {
	.name = "key",
	.args = "generate | set DEV FILE|- | clear DEV  [-j]",
	.summary = "make, set or remove the mesh key that authenticates probes",
	.help =
	"  generate          print a new random key: 32 bytes in base64, as from\n"
	"                    'wg genkey'; every peer of the mesh needs the same one\n"
	"  set DEV FILE|-    read the key from FILE or standard input and set it\n"
	"                    on DEV's listen port (watched first if it is not)\n"
	"  clear DEV         remove the key from DEV's listen port\n"
	"  -j, --json        print JSON\n"
	"\n"
	"Without a mesh key a port still reflects addresses, but never reveals or\n"
	"accepts peer endpoint records.  The key cannot be read back: status only\n"
	"says whether a port has one.\n",
	.run = run,
};
