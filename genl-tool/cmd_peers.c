// SPDX-License-Identifier: GPL-2.0
/*
 * khctl peers show|push|pull|import|delete|flush: the peer endpoint
 * records, and moving endpoints between them and WireGuard.  list and
 * export are in peers_list.c, sync in cmd_sync.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "cmd.h"
#include "device.h"
#include "import.h"
#include "kh.h"
#include "peers.h"
#include "show.h"
#include "util.h"
#include "wg.h"

/* peers import reads at most this much: 100,000 records take ~25 MB. */
#define IMPORT_MAX	(512u << 20)

static int run_list(const struct cmd *cmd, int argc, char **argv)
{
	bool json;
	int ret;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind > 1)
		return cmd_usage_error(cmd, "too many arguments");
	return peers_list(optind < argc ? argv[optind] : NULL, json, false);
}

static int run_export(const struct cmd *cmd, int argc, char **argv)
{
	bool json;
	int ret;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	return peers_list(argv[optind], true, true);
}

static void print_show(const struct kh_record *rec, const struct wg_device *dev,
		       const struct wg_peer *peer, bool json)
{
	char ep[ENDPOINT_STRLEN];
	int64_t age;

	if (json) {
		putchar('{');
		print_record_json(rec);
		printf(",\"wg_peer\":%s,\"wg_endpoint\":", peer ? "true" : "false");
		print_endpoint_json(peer ? &peer->endpoint :
				    &(struct sockaddr_storage){ 0 });
		fputs(",\"wg_latest_handshake\":", stdout);
		if (peer && peer->last_handshake_ms)
			printf("%lld}\n", (long long)(peer->last_handshake_ms / 1000));
		else
			fputs("null}\n", stdout);
		return;
	}
	fputs("record:    ", stdout);
	print_record(rec);
	putchar('\n');
	if (!peer) {
		printf("wireguard: not a peer of %s\n", dev->ifname);
		return;
	}
	if (!peer->endpoint.ss_family ||
	    format_endpoint(&peer->endpoint, ep, sizeof(ep)))
		strcpy(ep, "(none)");
	printf("wireguard: %s endpoint %s, latest handshake ", dev->ifname, ep);
	if (!peer->last_handshake_ms) {
		puts("never");
		return;
	}
	age = realtime_ms() - peer->last_handshake_ms;
	printf("%llds ago\n", (long long)(age > 0 ? age / 1000 : 0));
}

static int run_show(const struct cmd *cmd, int argc, char **argv)
{
	struct wg_device *dev = NULL;
	uint8_t key[KEY_LEN];
	struct kh_record rec;
	struct khnl nl;
	int ret, code = 1;
	bool json;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 2)
		return cmd_usage_error(cmd, argc - optind < 2 ?
				       "missing argument" : "too many arguments");
	if (key_from_base64(key, argv[optind + 1]))
		return cmd_usage_error(cmd, "%s: not a base64 key of %d bytes",
				       argv[optind + 1], KEY_LEN);

	if (kh_open(&nl))
		return 1;
	if (open_device(&nl, argv[optind], 0, &dev))
		goto out;
	ret = kh_get_peer(&nl, key, &rec);
	if (ret == -ENOENT) {
		kh_err("no record for %s", argv[optind + 1]);
		goto out;
	}
	if (ret) {
		khnl_perror(&nl, ret, "reading the record of %s",
			    argv[optind + 1]);
		goto out;
	}
	print_show(&rec, dev, wg_find_peer(dev, key), json);
	code = fflush(stdout) ? 1 : 0;
out:
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

static int run_delete(const struct cmd *cmd, int argc, char **argv)
{
	uint8_t key[KEY_LEN];
	struct khnl nl;
	int ret;

	if (argc != 2)
		return cmd_usage_error(cmd, argc < 2 ? "missing KEY" :
				       "too many arguments");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cmd_help(cmd);
		return 0;
	}
	if (key_from_base64(key, argv[1]))
		return cmd_usage_error(cmd, "%s: not a base64 key of %d bytes",
				       argv[1], KEY_LEN);
	if (kh_open(&nl))
		return 1;
	ret = kh_del_peer(&nl, key);
	if (ret == -ENOENT)
		kh_err("no record for %s", argv[1]);
	else if (ret)
		khnl_perror(&nl, ret, "deleting the record of %s", argv[1]);
	khnl_close(&nl);
	return ret ? 1 : 0;
}

static int run_flush(const struct cmd *cmd, int argc, char **argv)
{
	struct khnl nl;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		cmd_help(cmd);
		return 0;
	}
	if (argc != 1)
		return cmd_usage_error(cmd, "too many arguments");
	if (kh_open(&nl))
		return 1;
	ret = kh_flush_peers(&nl);
	if (ret)
		khnl_perror(&nl, ret, "flushing the records");
	khnl_close(&nl);
	return ret ? 1 : 0;
}

static int run_push(const struct cmd *cmd, int argc, char **argv)
{
	struct wg_device *dev = NULL;
	size_t i, pushed = 0, none = 0;
	char key[KEY_B64_LEN + 1];
	const char *name;
	struct khnl nl;
	int ret, code = 1;
	bool json;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	name = argv[optind];

	if (kh_open(&nl))
		return 1;
	if (open_device(&nl, name, 0, &dev))
		goto out;
	for (i = 0; i < dev->n_peers; i++) {
		const struct wg_peer *p = &dev->peers[i];

		/* the module takes unicast endpoints with a port only */
		if (!endpoint_is_unicast(&p->endpoint)) {
			none++;
			continue;
		}
		ret = kh_set_peer(&nl, p->public_key, &p->endpoint, 0);
		if (ret) {
			key_to_base64(key, p->public_key);
			khnl_perror(&nl, ret, "pushing the endpoint of %s", key);
			kh_err("pushed %zu of %s's endpoints before that", pushed,
			       name);
			goto out;
		}
		pushed++;
	}
	if (json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, name);
		printf(",\"pushed\":%zu,\"without_endpoint\":%zu}\n", pushed,
		       none);
	} else {
		printf("pushed %zu endpoint%s of %s", pushed,
		       pushed == 1 ? "" : "s", name);
		if (none)
			printf(" (%zu peer%s without one)", none,
			       none == 1 ? "" : "s");
		putchar('\n');
	}
	code = fflush(stdout) ? 1 : 0;
out:
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

/*
 * Punches need the port watched; say so once rather than for every change.
 */
static bool can_punch(struct khnl *nl, const struct wg_device *dev)
{
	struct kh_watch w;

	if (!dev->listen_port)
		return false;
	if (find_watch(nl, dev->listen_port, &w) == -ENOENT) {
		kh_err("warning: %s port %u is not watched: endpoints are set without a punch (khctl reflect enable %s)",
		       dev->ifname, dev->listen_port, dev->ifname);
		return false;
	}
	return true;
}

static int run_pull(const struct cmd *cmd, int argc, char **argv)
{
	struct kh_records recs = { 0 };
	struct wg_device *dev = NULL;
	struct change ch;
	size_t i, n = 0;
	const char *name;
	int64_t now;
	bool json, punch;
	struct khnl nl;
	int ret, code = 1, failed = 0;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	name = argv[optind];

	if (kh_open(&nl))
		return 1;
	if (open_device(&nl, name, 0, &dev) || peers_dump(&nl, &recs))
		goto out;
	punch = can_punch(&nl, dev);
	now = realtime_ms();
	if (json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, name);
		fputs(",\"changes\":[", stdout);
	}
	for (i = 0; i < recs.n; i++) {
		const struct kh_record *rec = &recs.v[i];
		struct wg_peer *peer = wg_find_peer(dev, rec->key);

		/* expired, and not yet reclaimed: no longer a claim */
		if (!peer || !rec->expires_ms)
			continue;
		ret = apply_record(&nl, dev, peer, rec, now, punch, 0, &ch);
		if (ret < 0) {
			failed++;
			continue;
		}
		if (!ret)
			continue;
		if (json) {
			fputs(n ? ",{" : "{", stdout);
			print_change_json(&ch);
			putchar('}');
		} else {
			print_change(name, &ch);
		}
		n++;
	}
	if (json)
		puts("]}");
	else if (!n)
		printf("%s: no endpoint to change\n", name);
	code = fflush(stdout) || failed ? 1 : 0;
out:
	kh_records_free(&recs);
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

static char *read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *p;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			if (cap >= IMPORT_MAX) {
				kh_err("stdin: more than %u MiB: too much to import",
				       IMPORT_MAX >> 20);
				free(buf);
				return NULL;
			}
			p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			kh_err("stdin: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (!r) {
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	kh_err("stdin: %s", strerror(ENOMEM));
	return NULL;
}

static int run_import(const struct cmd *cmd, int argc, char **argv)
{
	struct import_rec *recs = NULL;
	struct wg_device *dev = NULL;
	struct json_error err;
	char key[KEY_B64_LEN + 1];
	const char *name;
	size_t len, n = 0, i;
	struct khnl nl;
	int ret, code = 1;
	bool json;
	char *text;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind < 1 ?
				       "missing argument" : "too many arguments");
	name = argv[optind];

	text = read_stdin(&len);
	if (!text)
		return 1;
	/* the form first: a broken file is said so even without the module */
	if (import_parse(text, len, NULL, &recs, &n, &err)) {
		kh_err("stdin:%u: %s", err.line, err.msg);
		free(text);
		return 1;
	}
	free(recs);
	recs = NULL;
	if (kh_open(&nl)) {
		free(text);
		return 1;
	}
	if (open_device(&nl, name, 0, &dev))
		goto out;
	/* the whole input is checked first: a bad file changes nothing */
	if (import_parse(text, len, dev, &recs, &n, &err)) {
		kh_err("stdin:%u: %s", err.line, err.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
		ret = kh_set_peer(&nl, recs[i].key, &recs[i].endpoint,
				  recs[i].ttl_s);
		if (ret) {
			key_to_base64(key, recs[i].key);
			khnl_perror(&nl, ret, "stdin:%u: setting the record of %s",
				    recs[i].line, key);
			kh_err("%zu of %zu records were set before that", i, n);
			goto out;
		}
	}
	if (json) {
		fputs("{\"device\":", stdout);
		json_print_string(stdout, name);
		printf(",\"imported\":%zu}\n", n);
	} else {
		printf("imported %zu record%s for %s\n", n, n == 1 ? "" : "s",
		       name);
	}
	code = fflush(stdout) ? 1 : 0;
out:
	free(recs);
	free(text);
	wg_device_free(dev);
	khnl_close(&nl);
	return code;
}

static const struct cmd cmd_peers_list = {
	.name = "peers list",
	.args = "[DEV] [-j]",
	.summary = "list the peer endpoint records",
	.help =
	"  DEV          only the records of DEV's peers, with the endpoint that\n"
	"               WireGuard has for each and the path: direct, birthday\n"
	"               (the pair birthday probing found), relayed via the\n"
	"               peer (a reflector) whose endpoint WireGuard has instead\n"
	"               of the record's, or none\n"
	"  -j, --json   print a JSON array, one record per line\n"
	"\n"
	"One line per record: KEY  ENDPOINT  SOURCE [via REFLECTOR]  age  expires.\n"
	"SOURCE is observed (from a probe that peer sent us), pushed (set by an\n"
	"administrator) or learned (from a reflector).\n",
	.run = run_list,
};

static const struct cmd cmd_peers_show = {
	.name = "peers show",
	.args = "DEV KEY [-j]",
	.summary = "show one peer's record, and WireGuard's view of the peer",
	.help =
	"  DEV          the WireGuard device\n"
	"  KEY          the peer's public key, in base64\n"
	"  -j, --json   print JSON\n",
	.run = run_show,
};

static const struct cmd cmd_peers_push = {
	.name = "peers push",
	.args = "DEV [-j]",
	.summary = "store the endpoint of every peer of DEV that has one as a record",
	.help =
	"  -j, --json   print JSON\n"
	"\n"
	"The records are 'pushed': a reflector hands them out to peers asking.\n",
	.run = run_push,
};

static const struct cmd cmd_peers_pull = {
	.name = "peers pull",
	.args = "DEV [-j]",
	.summary = "set the records' endpoints on DEV's peers in WireGuard",
	.help =
	"  -j, --json   print JSON\n"
	"\n"
	"A record is left alone when WireGuard has the same endpoint, or had a\n"
	"handshake with the peer in the last 180 s that is more recent than the\n"
	"record's last confirmation.  Every endpoint set is followed by a punch:\n"
	"a probe from DEV's port to it that opens our NAT for the peer.\n",
	.run = run_pull,
};

static const struct cmd cmd_peers_export = {
	.name = "peers export",
	.args = "DEV",
	.summary = "print the records of DEV's peers as JSON, for peers import",
	.help =
	"The format of 'peers list DEV -j'.\n",
	.run = run_export,
};

static const struct cmd cmd_peers_import = {
	.name = "peers import",
	.args = "DEV [-j] < FILE",
	.summary = "set records from JSON on standard input",
	.help =
	"  -j, --json   print JSON\n"
	"\n"
	"Reads the array that 'peers export' prints.  public_key and endpoint are\n"
	"required, expires_ms becomes the record's lifetime (whole seconds, 1 to\n"
	"86400), other fields are ignored.  Every key must be a peer of DEV.  The\n"
	"whole input is checked first: on any error nothing changes, and the\n"
	"message names the line.  The records become 'pushed' ones.\n",
	.run = run_import,
};

static const struct cmd cmd_peers_delete = {
	.name = "peers delete",
	.args = "KEY",
	.summary = "remove one record from the table",
	.help =
	"  KEY          the peer's public key, in base64\n"
	"\n"
	"WireGuard's endpoint for the peer stays as it is.\n",
	.run = run_delete,
};

static const struct cmd cmd_peers_flush = {
	.name = "peers flush",
	.args = "",
	.summary = "remove every record of this network namespace",
	.help =
	"WireGuard's endpoints stay as they are.\n",
	.run = run_flush,
};

static const struct cmd *const peers_subs[] = {
	&cmd_peers_list,
	&cmd_peers_show,
	&cmd_peers_delete,
	&cmd_peers_flush,
	&cmd_peers_push,
	&cmd_peers_pull,
	&cmd_peers_sync,
	&cmd_peers_export,
	&cmd_peers_import,
};

static int run(const struct cmd *cmd, int argc, char **argv)
{
	const struct cmd *sub;

	if (argc < 2)
		return cmd_usage_error(cmd, "missing subcommand");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cmd_help(cmd);
		return 0;
	}
	sub = cmd_find_sub(cmd, argv[1]);
	if (!sub)
		return cmd_usage_error(cmd, "unknown subcommand '%s'", argv[1]);
	return sub->run(sub, argc - 1, argv + 1);
}

const struct cmd cmd_peers = {
	.name = "peers",
	.args = "list|show|delete|flush|push|pull|sync|export|import ...",
	.summary = "peer endpoint records: list them, move them to and from WireGuard",
	.run = run,
	.subs = peers_subs,
	.n_subs = ARRAY_SIZE(peers_subs),
};
