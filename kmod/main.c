// SPDX-License-Identifier: GPL-2.0
/*
 * kh_reflect: in-band endpoint reflection on the WireGuard port.
 * Module init/exit and per-network-namespace state.
 */
#include <linux/module.h>
#include <linux/percpu.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "kh.h"

static unsigned int kh_net_id __read_mostly;

struct kh_net *kh_net(struct net *net)
{
	return net_generic(net, kh_net_id);
}

u64 kh_stat_read(struct kh_net *kn, enum kh_stat stat)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(kn->stats, cpu)->v[stat]);
	return sum;
}

static int __net_init kh_net_init(struct net *net)
{
	struct kh_net *kn = kh_net(net);
	int ret;

	kn->net = net;
	mutex_init(&kn->lock);
	spin_lock_init(&kn->probe_lock);
	kh_reflect_init(kn);
	kn->stats = alloc_percpu(struct kh_stats);
	if (!kn->stats)
		return -ENOMEM;
	kh_hook_init(kn);
	kh_records_init(kn);
	kh_ratelimit_init(kn);
	kh_relay_init(kn);
	kh_bday_init(kn);
	ret = kh_socket_init(kn);
	if (ret)
		goto err_socket;
	return 0;

err_socket:
	free_percpu(kn->stats);
	return ret;
}

static void __net_exit kh_net_exit(struct net *net)
{
	struct kh_net *kn = kh_net(net);

	/* The hooks first: nothing adds records or sends after that. */
	kh_hook_exit(kn);
	kh_bday_exit(kn);
	kh_reflect_exit(kn);
	kh_records_exit(kn);
	kh_ratelimit_exit(kn);
	kh_socket_exit(kn);
	free_percpu(kn->stats);
	mutex_destroy(&kn->lock);
}

static struct pernet_operations kh_net_ops = {
	.init = kh_net_init,
	.exit = kh_net_exit,
	.id = &kh_net_id,
	.size = sizeof(struct kh_net),
};

static int __init kh_mod_init(void)
{
	int ret;

	ret = kh_records_module_init();
	if (ret)
		goto err_records;
	ret = register_pernet_subsys(&kh_net_ops);
	if (ret)
		goto err_pernet;
	ret = kh_netlink_init();
	if (ret)
		goto err_netlink;
	pr_info("kh_reflect %d loaded\n", KH_GENL_VERSION);
	return 0;

err_netlink:
	unregister_pernet_subsys(&kh_net_ops);
err_pernet:
	rcu_barrier();
	kh_records_module_exit();
err_records:
	return ret;
}

static void __exit kh_mod_exit(void)
{
	/*
	 * No new commands first, as each namespace's state goes next, and with
	 * them no events: the hooks and work, which go with each namespace,
	 * can then no longer announce anything through a family that is gone.
	 */
	kh_netlink_exit();
	unregister_pernet_subsys(&kh_net_ops);
	/* Keys are freed by RCU callbacks, which live in this module. */
	rcu_barrier();
	kh_records_module_exit();
}

module_init(kh_mod_init);
module_exit(kh_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("In-band endpoint reflection on the WireGuard port");
MODULE_AUTHOR("kh_reflect developers");
MODULE_VERSION("0.1.0");
MODULE_ALIAS_GENL_FAMILY(KH_GENL_NAME);
