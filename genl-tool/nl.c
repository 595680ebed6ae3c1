// SPDX-License-Identifier: GPL-2.0
/*
 * The small netlink layer: one request socket shared by both families, one
 * error path that keeps the kernel's -errno and its extack message.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "nl.h"
#include "util.h"

/* libnl folds errno into its own codes; local failures come back this way. */
int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_DUMP_INTR:
		/* the dump raced with a change: asking again is the fix */
		return -EAGAIN;
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
	case NLE_ATTRSIZE:
		return -EBADMSG;
	}
	return -EPROTO;
}

/*
 * The kernel's human-readable reason (NLMSGERR_ATTR_MSG) from an
 * NLMSG_ERROR or NLMSG_DONE.  Nothing in the message is trusted: every
 * offset is checked against nlmsg_len, which libnl checked against what
 * recv() returned.
 */
bool extack_msg(const struct nlmsghdr *nlh, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)nlh;
	size_t len = nlh->nlmsg_len, off;

	if (size)
		buf[0] = '\0';
	if (!size || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return false;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr e;

		off = NLMSG_LENGTH(sizeof(e));
		if (len < off)
			return false;
		memcpy(&e, NLMSG_DATA(nlh), sizeof(e));
		/* the request is echoed unless capped (or NETLINK_CAP_ACK) */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (e.msg.nlmsg_len < sizeof(e.msg) ||
			    e.msg.nlmsg_len - sizeof(e.msg) > len - off)
				return false;
			off += e.msg.nlmsg_len - sizeof(e.msg);
		}
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		off = NLMSG_LENGTH(sizeof(int));
	} else {
		return false;
	}

	for (off = NLMSG_ALIGN(off); off + NLA_HDRLEN <= len;) {
		struct nlattr a;
		size_t n, i;

		memcpy(&a, p + off, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off)
			return false;
		if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			const char *s = (const char *)p + off + NLA_HDRLEN;

			n = strnlen(s, a.nla_len - NLA_HDRLEN);
			if (n >= size)
				n = size - 1;
			/* it goes to a terminal: no control characters */
			for (i = 0; i < n; i++)
				buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
			buf[n] = '\0';
			return n > 0;
		}
		off += NLA_ALIGN(a.nla_len);
	}
	return false;
}

int khnl_open(struct khnl *nl)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	err = genl_connect(nl->sk);
	if (err < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return nlerr_to_errno(err);
	}
	/* khnl_request() asks for ACKs and checks sequence numbers itself */
	nl_socket_disable_auto_ack(nl->sk);
	/* without it the kernel keeps its reasons to itself; old kernels
	 * lack it, which only costs the message
	 */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	return 0;
}

void khnl_close(struct khnl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

/* Family id, or -ENOENT (libnl reports every failure as "not found"). */
int khnl_resolve(struct khnl *nl, const char *name)
{
	int id = genl_ctrl_resolve(nl->sk, name);

	return id < 0 ? nlerr_to_errno(id) : id;
}

struct nl_msg *khnl_msg(int family, uint8_t cmd, uint8_t version, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags,
			 cmd, version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct request {
	struct khnl *nl;
	khnl_parse_fn parse;
	void *arg;
	uint32_t seq;
	int err;
	bool done;
};

static void set_err(struct request *r, int err)
{
	if (!r->err)
		r->err = err;
}

static int on_seq(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	/* left over from an earlier request: not an answer to this one */
	return nlmsg_hdr(msg)->nlmsg_seq == r->seq ? NL_OK : NL_SKIP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	int ret;

	/* after a parse error keep reading, so the reply is drained */
	if (r->parse && !r->err) {
		ret = r->parse(msg, r->arg);
		if (ret < 0)
			set_err(r, ret);
	}
	return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

/* NLMSG_DONE carries the error of a dump that failed half way. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct request *r = arg;
	int err;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(err))) {
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		if (err < 0) {
			if (!r->err)
				extack_msg(nlh, r->nl->ext_msg,
					   sizeof(r->nl->ext_msg));
			set_err(r, err);
		}
	}
	r->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	/* libnl hands over the payload; the header sits right before it */
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct request *r = arg;

	(void)nla;
	if (!r->err)
		extack_msg(nlh, r->nl->ext_msg, sizeof(r->nl->ext_msg));
	set_err(r, e->error);
	r->done = true;
	return NL_STOP;
}

/*
 * Sends msg (always consumed) and reads the whole answer: for a do, the
 * reply if any and the ACK; for a dump, up to NLMSG_DONE.  Returns 0 or the
 * first -errno: the kernel's own, or the one parse returned.
 */
int khnl_request(struct khnl *nl, struct nl_msg *msg, khnl_parse_fn parse,
		 void *arg)
{
	struct request r = { .nl = nl, .parse = parse, .arg = arg };
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_cb *cb;
	int ret;

	nl->ext_msg[0] = '\0';
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, on_seq, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &r);

	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		r.err = nlerr_to_errno(ret);
		goto out;
	}
	r.seq = nlh->nlmsg_seq;

	while (!r.done) {
		ret = nl_recvmsgs_report(nl->sk, cb);
		if (ret < 0) {
			set_err(&r, nlerr_to_errno(ret));
			break;
		}
		if (ret == 0) {
			/* recv() read nothing on a blocking socket */
			set_err(&r, -EPROTO);
			break;
		}
	}
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return r.err;
}

void khnl_perror(const struct khnl *nl, int err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (err < 0)
		err = -err;
	if (err == EPERM) {
		kh_err("permission denied: needs CAP_NET_ADMIN");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (nl && nl->ext_msg[0])
		kh_err("%s: %s (%s)", what, nl->ext_msg, strerror(err));
	else
		kh_err("%s: %s", what, strerror(err));
}

/*
 * A second socket, so that events never interleave with the answers to
 * requests.  Non-blocking: drive it with poll() and khnl_events_read().
 */
int khnl_events_open(struct khnl *nl, const char *family, const char *group,
		     struct nl_sock **out)
{
	struct nl_sock *sk;
	int grp, err;

	grp = genl_ctrl_resolve_grp(nl->sk, family, group);
	if (grp < 0)
		return nlerr_to_errno(grp);
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	/* events are not answers: their sequence numbers are not ours */
	nl_socket_disable_seq_check(sk);
	err = genl_connect(sk);
	if (!err)
		err = nl_socket_add_membership(sk, grp);
	if (!err)
		err = nl_socket_set_nonblocking(sk);
	if (!err)
		/* a burst must not overrun us; the kernel caps it anyway */
		err = nl_socket_set_buffer_size(sk, 1 << 20, 0);
	if (err < 0) {
		nl_socket_free(sk);
		return nlerr_to_errno(err);
	}
	*out = sk;
	return 0;
}

struct events {
	khnl_parse_fn parse;
	void *arg;
	int err;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct events *ev = arg;
	int ret;

	if (!ev->err) {
		ret = ev->parse(msg, ev->arg);
		if (ret < 0)
			ev->err = ret;
	}
	return NL_OK;
}

/*
 * Hands every pending event to parse and returns 0 once the socket is
 * empty; -ENOBUFS if the kernel had to drop events for us.
 */
int khnl_events_read(struct nl_sock *sk, khnl_parse_fn parse, void *arg)
{
	struct events ev = { .parse = parse, .arg = arg };
	struct nl_cb *orig, *cb;
	int ret;

	orig = nl_socket_get_cb(sk);
	if (!orig)
		return -ENOMEM;
	cb = nl_cb_clone(orig);
	nl_cb_put(orig);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &ev);

	do {
		ret = nl_recvmsgs_report(sk, cb);
	} while (ret > 0 && !ev.err);

	nl_cb_put(cb);
	if (ev.err)
		return ev.err;
	if (ret == 0 || ret == -NLE_AGAIN)
		return 0;
	/* recv() failing with ENOBUFS is what libnl calls NLE_NOMEM */
	return ret == -NLE_NOMEM ? -ENOBUFS : nlerr_to_errno(ret);
}
