// SPDX-License-Identifier: GPL-2.0
/* khctl reflect enable|disable DEV: hand a WireGuard listen port over. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "device.h"
#include "kh.h"
#include "util.h"
#include "wg.h"

static void print_ports_json(const struct ports *p)
{
	size_t i;

	putchar('[');
	for (i = 0; i < p->n; i++)
		printf("%s%u", i ? "," : "", p->v[i]);
	putchar(']');
}

static bool device_missing(int err)
{
	return err == -ENODEV || err == -EOPNOTSUPP || err == -WG_ENOFAMILY;
}

static bool same_ifindex(const struct kh_watch *w, const void *arg)
{
	const struct wg_device *dev = arg;

	return w->ifindex == dev->ifindex;
}

static bool same_label(const struct kh_watch *w, const void *arg)
{
	return !strcmp(w->ifname, arg);
}

static int enable(struct khnl *nl, const char *name, bool json)
{
	struct ports dropped = { 0 };
	struct wg_device *dev;
	int code = 1;

	bool watched;

	if (open_device(nl, name, DEV_NEED_PORT, &dev))
		return 1;
	if (!watch_device(nl, dev, name, &dropped, &watched))
		code = 0;
	if (!watched)
		goto out;

	if (json) {
		fputs("{\"ifname\":", stdout);
		json_print_string(stdout, name);
		printf(",\"ifindex\":%u,\"port\":%u,\"unwatched\":",
		       dev->ifindex, dev->listen_port);
		print_ports_json(&dropped);
		puts("}");
	} else {
		printf("watching %s port %u\n", name, dev->listen_port);
		for (size_t i = 0; i < dropped.n; i++)
			printf("no longer watching its old port %u\n",
			       dropped.v[i]);
	}
out:
	free(dropped.v);
	wg_device_free(dev);
	return code;
}

static int disable(struct khnl *nl, const char *name, bool json)
{
	struct ports done = { 0 };
	struct wg_device *dev;
	int ret, wg_ret, code = 1;

	wg_ret = wg_get_device(nl, name, 0, &dev);
	if (wg_ret && !device_missing(wg_ret)) {
		wg_perror(nl, wg_ret, name);
		return 1;
	}

	if (dev && dev->listen_port) {
		ret = kh_unwatch(nl, dev->listen_port);
		if (!ret)
			ret = ports_add(&done, dev->listen_port);
		if (ret && ret != -ENOENT) {
			khnl_perror(nl, ret, "unwatching %s port %u", name,
				    dev->listen_port);
			goto out;
		}
	}
	/*
	 * Ports the device listened on before; and when the device is gone,
	 * only the label the watch was made with still names it.
	 */
	if (dev)
		ret = unwatch_matching(nl, &done, same_ifindex, dev);
	else
		ret = unwatch_matching(nl, &done, same_label, name);
	if (ret)
		goto out;

	if (!done.n) {
		if (dev)
			kh_err("%s is not watched", name);
		else
			wg_perror(nl, wg_ret, name);
		goto out;
	}
	if (json) {
		fputs("{\"ifname\":", stdout);
		json_print_string(stdout, name);
		fputs(",\"unwatched\":", stdout);
		print_ports_json(&done);
		puts("}");
	} else {
		for (size_t i = 0; i < done.n; i++)
			printf("stopped watching %s port %u\n", name,
			       done.v[i]);
	}
	code = 0;
out:
	free(done.v);
	wg_device_free(dev);
	return code;
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	const char *action, *name;
	struct khnl nl;
	bool json;
	int ret;

	ret = cmd_parse_json_only(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (argc - optind != 2)
		return cmd_usage_error(cmd, argc - optind < 2 ?
				       "missing argument" : "too many arguments");
	action = argv[optind];
	name = argv[optind + 1];
	if (strcmp(action, "enable") && strcmp(action, "disable"))
		return cmd_usage_error(cmd, "'%s' is neither enable nor disable",
				       action);

	if (kh_open(&nl))
		return 1;
	if (!strcmp(action, "enable"))
		ret = enable(&nl, name, json);
	else
		ret = disable(&nl, name, json);
	khnl_close(&nl);
	if (!ret && fflush(stdout))
		ret = 1;
	return ret;
}

const struct cmd cmd_reflect = {
	.name = "reflect",
	.args = "enable|disable DEV [-j]",
	.summary = "start or stop answering probes on a WireGuard listen port",
	.help =
	"  enable DEV    watch the listen port of WireGuard device DEV; run it\n"
	"                again after the port changes (the old one is dropped)\n"
	"  disable DEV   stop watching DEV's ports (if DEV is gone: the watches\n"
	"                labelled DEV)\n"
	"  -j, --json    print JSON\n",
	.run = run,
};
