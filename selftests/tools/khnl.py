#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A raw generic-netlink client for the netlink policy tests: it sends what
khctl never would (unknown, oversized, mistyped and missing attributes) and
prints the kernel's errno and extack message for each.

  khnl.py policy     run the table of bad requests below; exit 1 if any
                     was accepted or refused without an extack message
  khnl.py push N     set N records with random keys; prints how many were
                     accepted and how many refused with ENOSPC
  khnl.py bulk N     set N records fast (batches, acks only for errors);
                     exit 1 on any error
"""
import errno
import os
import socket
import struct
import sys

NETLINK_EXT_ACK, SOL_NETLINK = 11, 270
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_MISS_TYPE = 1, 5
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 16, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2

# include/uapi/linux/kh_reflect.h
(GET_STATUS, WATCH, UNWATCH, PROBE, GET_REFLECTIONS, REFLECTION, SET_KEY,
 SET_CONFIG, GET_PEER, GET_PEERS, SET_PEER, DEL_PEER, FLUSH_PEERS, PEER_EVENT,
 START, BIRTHDAY, BIRTHDAY_END, GET_BIRTHDAYS) = range(1, 19)
(A_VERSION, A_PORT, A_IFINDEX, A_IFNAME, A_WATCH, A_STATS, A_REFLECTOR,
 A_ENDPOINT, A_NONCE, A_RTT_US, A_AGE_MS, A_AUTH, A_KEY, A_PUBKEY, A_WANT,
 A_SOURCE, A_EXPIRES_MS, A_RECORD_TTL, A_MAX_RECORDS, A_RECORDS, A_EVENT,
 A_RL_RATE, A_RL_BURST, A_RL_TOTAL, A_RECORD_FLAGS, A_START_TTL,
 A_START_HOLD_MS, A_ALT_PORT, A_RELAY, A_RELAY_END, A_RELAY_RATE, A_NAT,
 A_PEER, A_BDAY_MODE, A_BDAY_STATE, A_BDAY_COUNT, A_BDAY_RATE, A_BDAY_TIME_MS,
 A_BDAY_PORTS, A_BDAY_PROBES, A_BDAY_FOUND, A_BDAY_LOCAL_PORT,
 A_BDAY_TOOK_MS, A_FWMARK, A_CANDIDATE) = range(1, 46)


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("=HH", 4 + len(v), t) + v + bytes(pad)


def u16(v): return struct.pack("=H", v)
def u32(v): return struct.pack("=I", v)


def sin(addr, port):
    return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + \
        socket.inet_aton(addr) + bytes(8)


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.bind((0, 0))
        self.seq = 0

    def request(self, family, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK, version=1):
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, 0) + payload
        self.s.send(struct.pack("=IHHII", 16 + len(body), family, flags, self.seq, 0) + body)
        msgs = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off < len(data):
                ln, typ, fl, seq, _ = struct.unpack_from("=IHHII", data, off)
                msg = data[off:off + ln]
                off += (ln + 3) & ~3
                if typ == NLMSG_ERROR:
                    return self.parse_error(msg, fl), msgs
                if typ == NLMSG_DONE:
                    return (0, None, None), msgs
                msgs.append(msg)

    @staticmethod
    def parse_error(msg, flags):
        err = struct.unpack_from("=i", msg, 16)[0]
        # with NLM_F_CAPPED (0x100) only the request's header is echoed
        ln = struct.unpack_from("=I", msg, 20)[0]
        off = 20 + (16 if flags & 0x100 else (ln + 3) & ~3)
        text, miss = None, None
        if flags & NLM_F_ACK_TLVS:
            while off + 4 <= len(msg):
                aln, at = struct.unpack_from("=HH", msg, off)
                if aln < 4:
                    break
                val = msg[off + 4:off + aln]
                if at == NLMSGERR_ATTR_MSG:
                    text = val.rstrip(b"\0").decode()
                elif at == NLMSGERR_ATTR_MISS_TYPE:
                    miss = struct.unpack("=I", val)[0]
                off += (aln + 3) & ~3
        return -err, text, miss

    def family(self, name):
        (err, text, _), msgs = self.request(
            GENL_ID_CTRL, CTRL_CMD_GETFAMILY, attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        if err or not msgs:
            sys.exit("family %s: %s" % (name, os.strerror(err) if err else "no reply"))
        off = 20
        m = msgs[0]
        while off < len(m):
            aln, at = struct.unpack_from("=HH", m, off)
            if at == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", m, off + 4)[0]
            off += (aln + 3) & ~3
        sys.exit("no family id")


KEY = bytes(range(32))
BDAY_OK = (attr(A_PORT, u16(51820)) + attr(A_PUBKEY, KEY) + attr(A_PEER, KEY)
           + attr(A_ENDPOINT, sin("192.0.2.1", 1)))
BAD = [
    # (what, cmd, attributes, expected errno)
    ("status with an unknown attribute", GET_STATUS, attr(200, u32(1)), errno.EINVAL),
    ("status with an output-only attribute", GET_STATUS, attr(A_VERSION, u32(1)), errno.EINVAL),
    ("watch without a port", WATCH, attr(A_IFINDEX, u32(1)), errno.EINVAL),
    ("watch without an ifindex", WATCH, attr(A_PORT, u16(51820)), errno.EINVAL),
    ("watch port 0", WATCH, attr(A_PORT, u16(0)) + attr(A_IFINDEX, u32(1)), errno.ERANGE),
    ("watch port as u32", WATCH, attr(A_PORT, u32(51820)) + attr(A_IFINDEX, u32(1)), errno.EINVAL),
    ("watch ifindex as u16", WATCH, attr(A_PORT, u16(51820)) + attr(A_IFINDEX, u16(1)), errno.EINVAL),
    ("watch with a 40-byte ifname", WATCH, attr(A_PORT, u16(51820)) + attr(A_IFINDEX, u32(1))
     + attr(A_IFNAME, b"x" * 39 + b"\0"), errno.EINVAL),
    ("watch with an unknown attribute", WATCH, attr(A_PORT, u16(51820)) + attr(A_IFINDEX, u32(1))
     + attr(99, b""), errno.EINVAL),
    ("unwatch without a port", UNWATCH, b"", errno.EINVAL),
    ("unwatch an unwatched port", UNWATCH, attr(A_PORT, u16(51820)), errno.ENOENT),
    ("probe without a reflector", PROBE, attr(A_PORT, u16(51820)), errno.EINVAL),
    ("probe with a 3-byte reflector", PROBE, attr(A_PORT, u16(51820)) + attr(A_REFLECTOR, b"abc"),
     errno.EINVAL),
    ("probe a multicast reflector", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("224.0.0.1", 51820)), errno.EINVAL),
    ("probe a reflector with port 0", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 0)), errno.EINVAL),
    ("probe with a sockaddr_in claiming AF_INET6", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, struct.pack("=H", socket.AF_INET6) + sin("192.0.2.1", 1)[2:]), errno.EINVAL),
    ("probe from an unwatched port", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 51820)), errno.ENOENT),
    ("set key of 31 bytes", SET_KEY, attr(A_PORT, u16(51820)) + attr(A_KEY, KEY[:31]), errno.ERANGE),
    ("set key of 33 bytes", SET_KEY, attr(A_PORT, u16(51820)) + attr(A_KEY, KEY + b"x"), errno.ERANGE),
    ("set key without a port", SET_KEY, attr(A_KEY, KEY), errno.EINVAL),
    ("set key on an unwatched port", SET_KEY, attr(A_PORT, u16(51820)) + attr(A_KEY, KEY), errno.ENOENT),
    ("config with nothing", SET_CONFIG, b"", errno.EINVAL),
    ("config max-records 0", SET_CONFIG, attr(A_MAX_RECORDS, u32(0)), errno.ERANGE),
    ("config max-records past the maximum", SET_CONFIG, attr(A_MAX_RECORDS, u32(1 << 21)), errno.ERANGE),
    ("config ttl of a week", SET_CONFIG, attr(A_RECORD_TTL, u32(7 * 86400)), errno.ERANGE),
    ("config rate 0", SET_CONFIG, attr(A_RL_RATE, u32(0)), errno.ERANGE),
    ("config rate as u16", SET_CONFIG, attr(A_RL_RATE, u16(5)), errno.EINVAL),
    ("config relay rate below a packet", SET_CONFIG, attr(A_RELAY_RATE, u32(1499)), errno.ERANGE),
    ("config relay rate past the maximum", SET_CONFIG, attr(A_RELAY_RATE, u32(1000000001)),
     errno.ERANGE),
    ("probe asking a relay to a 31-byte key", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 51820)) + attr(A_RELAY, KEY[:31]), errno.ERANGE),
    ("probe ending a relay to a 33-byte key", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 51820)) + attr(A_RELAY_END, KEY + b"x"), errno.ERANGE),
    ("probe with a flag for another port that has a value", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 51820)) + attr(A_ALT_PORT, b"x"), errno.ERANGE),
    ("get peer without a key", GET_PEER, b"", errno.EINVAL),
    ("get peer with a short key", GET_PEER, attr(A_PUBKEY, KEY[:16]), errno.ERANGE),
    ("get an unknown peer", GET_PEER, attr(A_PUBKEY, KEY), errno.ENOENT),
    ("set peer without an endpoint", SET_PEER, attr(A_PUBKEY, KEY), errno.EINVAL),
    ("set peer with a bad endpoint", SET_PEER, attr(A_PUBKEY, KEY) + attr(A_ENDPOINT, b"\0" * 16),
     errno.EINVAL),
    ("set peer with ttl 0", SET_PEER, attr(A_PUBKEY, KEY) + attr(A_ENDPOINT, sin("192.0.2.1", 1))
     + attr(A_RECORD_TTL, u32(0)), errno.ERANGE),
    ("delete an unknown peer", DEL_PEER, attr(A_PUBKEY, KEY), errno.ENOENT),
    ("delete peer with a long key", DEL_PEER, attr(A_PUBKEY, KEY + KEY), errno.ERANGE),
    ("flush with an unknown attribute", FLUSH_PEERS, attr(120, b"x"), errno.EINVAL),
    ("start without an endpoint", START, attr(A_PORT, u16(51820)) + attr(A_START_TTL, b"\2")
     + attr(A_START_HOLD_MS, u32(1000)), errno.EINVAL),
    ("start without a TTL", START, attr(A_PORT, u16(51820)) + attr(A_ENDPOINT, sin("192.0.2.1", 1))
     + attr(A_START_HOLD_MS, u32(1000)), errno.EINVAL),
    ("start with TTL 0", START, attr(A_PORT, u16(51820)) + attr(A_ENDPOINT, sin("192.0.2.1", 1))
     + attr(A_START_TTL, b"\0") + attr(A_START_HOLD_MS, u32(1000)), errno.ERANGE),
    ("start holding 0 ms", START, attr(A_PORT, u16(51820)) + attr(A_ENDPOINT, sin("192.0.2.1", 1))
     + attr(A_START_TTL, b"\2") + attr(A_START_HOLD_MS, u32(0)), errno.ERANGE),
    ("start holding past the maximum", START, attr(A_PORT, u16(51820))
     + attr(A_ENDPOINT, sin("192.0.2.1", 1)) + attr(A_START_TTL, b"\2")
     + attr(A_START_HOLD_MS, u32(600001)), errno.ERANGE),
    ("start toward a multicast endpoint", START, attr(A_PORT, u16(51820))
     + attr(A_ENDPOINT, sin("224.0.0.1", 1)) + attr(A_START_TTL, b"\2")
     + attr(A_START_HOLD_MS, u32(1000)), errno.EINVAL),
    ("start from an unwatched port", START, attr(A_PORT, u16(51820))
     + attr(A_ENDPOINT, sin("192.0.2.1", 1)) + attr(A_START_TTL, b"\2")
     + attr(A_START_HOLD_MS, u32(1000)), errno.ENOENT),
    ("probe saying its NAT with a bit that is not a NAT's", PROBE, attr(A_PORT, u16(51820))
     + attr(A_REFLECTOR, sin("192.0.2.1", 51820)) + attr(A_NAT, b"\1"), errno.EINVAL),
    ("birthday without a peer", BIRTHDAY, attr(A_PORT, u16(51820)) + attr(A_PUBKEY, KEY)
     + attr(A_ENDPOINT, sin("192.0.2.1", 1)) + attr(A_BDAY_MODE, b"\1"), errno.EINVAL),
    ("birthday without a mode", BIRTHDAY, BDAY_OK, errno.EINVAL),
    ("birthday in mode 3", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\3"), errno.ERANGE),
    ("birthday with a 31-byte peer", BIRTHDAY, attr(A_PORT, u16(51820)) + attr(A_PUBKEY, KEY)
     + attr(A_PEER, KEY[:31]) + attr(A_ENDPOINT, sin("192.0.2.1", 1))
     + attr(A_BDAY_MODE, b"\1"), errno.ERANGE),
    ("birthday toward a multicast endpoint", BIRTHDAY, attr(A_PORT, u16(51820))
     + attr(A_PUBKEY, KEY) + attr(A_PEER, KEY) + attr(A_ENDPOINT, sin("224.0.0.1", 1))
     + attr(A_BDAY_MODE, b"\1"), errno.EINVAL),
    ("birthday of 0 probes", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\2")
     + attr(A_BDAY_COUNT, u32(0)), errno.ERANGE),
    ("birthday at 0 a second", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\2")
     + attr(A_BDAY_RATE, u32(0)), errno.ERANGE),
    ("birthday at 1001 a second", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\2")
     + attr(A_BDAY_RATE, u32(1001)), errno.ERANGE),
    ("birthday past the time limit", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\2")
     + attr(A_BDAY_TIME_MS, u32(600001)), errno.ERANGE),
    ("birthday from an unwatched port", BIRTHDAY, BDAY_OK + attr(A_BDAY_MODE, b"\2"), errno.ENOKEY),
    ("birthday end without a peer", BIRTHDAY_END, attr(A_PORT, u16(51820)), errno.EINVAL),
    ("birthday end of no session", BIRTHDAY_END, attr(A_PORT, u16(51820)) + attr(A_PEER, KEY),
     errno.ENOENT),
    ("an unknown command", 77, b"", errno.EOPNOTSUPP),
]


def policy():
    g = Genl()
    fam = g.family("kh_reflect")
    bad = 0
    for what, cmd, payload, want in BAD:
        (err, text, miss), _ = g.request(fam, cmd, payload)
        # An unknown command has no attribute to blame and no message.
        ok = err == want and (text is not None or want == errno.EOPNOTSUPP)
        print("%s %s: %s%s%s" % ("ok  " if ok else "BAD ", what,
              os.strerror(err) if err else "accepted",
              ' "%s"' % text if text else "",
              " (missing attribute %d)" % miss if miss else ""))
        bad += not ok
    # dumps: unknown attributes are refused too
    for what, cmd in (("reflections dump", GET_REFLECTIONS), ("peers dump", GET_PEERS)):
        (err, text, _), _ = g.request(fam, cmd, attr(150, b""), NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
        ok = err == errno.EINVAL and text
        print("%s %s with an unknown attribute: %s%s" % ("ok  " if ok else "BAD ", what,
              os.strerror(err) if err else "accepted", ' "%s"' % text if text else ""))
        bad += not ok
    sys.exit(1 if bad else 0)


def push(n):
    g = Genl()
    fam = g.family("kh_reflect")
    done = {"accepted": 0, "refused": 0}
    for i in range(n):
        ep = sin("203.0.113.%d" % (1 + i % 250), 1024 + i)
        (err, text, _), _ = g.request(fam, SET_PEER, attr(A_PUBKEY, os.urandom(32))
                                      + attr(A_ENDPOINT, ep))
        if err == 0:
            done["accepted"] += 1
        elif err == errno.ENOSPC:
            done["refused"] += 1
        else:
            sys.exit("set peer: %s %s" % (os.strerror(err), text))
    print("%(accepted)d %(refused)d" % done)


def bulk(n):
    g = Genl()
    fam = g.family("kh_reflect")
    batch = 500
    for start in range(0, n, batch):
        buf = b""
        for i in range(start, min(n, start + batch)):
            g.seq += 1
            body = struct.pack("=BBH", SET_PEER, 1, 0) + attr(A_PUBKEY, os.urandom(32)) \
                + attr(A_ENDPOINT, sin("203.0.113.%d" % (1 + i % 250), 1024 + i % 60000))
            buf += struct.pack("=IHHII", 16 + len(body), fam, NLM_F_REQUEST, g.seq, 0) + body
        g.s.send(buf)
    # One acked request after the batches: errors of the batches come first.
    (err, text, _), _ = g.request(fam, GET_STATUS, b"")
    if err:
        sys.exit("a record was refused: %s %s" % (os.strerror(err), text or ""))


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "policy":
        policy()
    elif len(sys.argv) == 3 and sys.argv[1] == "push":
        push(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "bulk":
        bulk(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
