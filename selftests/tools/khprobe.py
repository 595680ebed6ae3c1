#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Craft kh_reflect probe messages for the hostile tests (include/uapi/linux/
kh_reflect.h has the format).  Sends them as raw IPv4/UDP, so that any
source address and port can be forged.

  khprobe.py flood DST PORT SECONDS [SRC...]   requests, valid and garbage
  khprobe.py answer SRC SPORT DST DPORT NONCEHEX OBSADDR OBSPORT [--junkmac]
                                               --junkmac: flagged authenticated,
                                               with a MAC of a random key
  khprobe.py update SRC SPORT DST DPORT KEYFILE SEQ PUBKEY ADDR PORT [--badmac]
  khprobe.py relay SRC SPORT DST DPORT PUBKEY PEER [KEYFILE [--badmac]]
                                               a relay request: without
                                               KEYFILE unauthenticated
  khprobe.py birthday SRC SPORT DST DPORT PUBKEY [KEYFILE [--badmac]]
                                               a birthday probe: without
                                               KEYFILE unauthenticated
  khprobe.py raw SRC SPORT DST DPORT HEX [--nocsum]
                                               any payload; --nocsum: UDP
                                               checksum 0 (none, over IPv4)
  khprobe.py sniff IFACE SECONDS TYPE          hex of the first message of TYPE
"""
import base64
import hashlib
import os
import socket
import struct
import sys
import time

MAGIC = 0x6b687201
REQUEST, ANSWER, UPDATE, BIRTHDAY = 1, 2, 3, 4
F_AUTH = 1
PF_PAD, PF_OBS4, PF_PUBKEY, PF_REC4, PF_MAC, PF_SEQ = 0, 1, 3, 5, 7, 8
PF_RELAY = 11


def field(t, v):
    return bytes([t, len(v)]) + v


def message(t, flags, nonce, fields, key=None):
    body = b"".join(fields)
    length = 24 + len(body) + (18 if key is not None else 0)
    msg = struct.pack(">IBBH", MAGIC, t, flags, length) + nonce + body
    if key is not None:
        msg += bytes([PF_MAC, 16])
        msg += hashlib.blake2s(msg, key=key, digest_size=16).digest()
    return msg


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def send_raw(src, sport, dst, dport, payload, nocsum=False):
    ulen = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = 0 if nocsum else csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(ip + udp, (dst, 0))
    s.close()


def obs4(addr, port):
    return field(PF_OBS4, socket.inet_aton(addr) + struct.pack(">H", port))


def flood(dst, port, seconds, srcs):
    """Valid requests and garbage, from each source in turn, as fast as we can."""
    valid = message(REQUEST, 0, bytes(16), [field(PF_PAD, bytes(18))])
    garbage = [struct.pack(">I", MAGIC) + os.urandom(40),
               struct.pack(">I", MAGIC) + bytes(3), os.urandom(60)]
    socks = []
    for src in srcs or [None]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if src:
            s.bind((src, 0))
        socks.append(s)
    end = time.monotonic() + float(seconds)
    sent = 0
    while time.monotonic() < end:
        for s in socks:
            if sent % 4:
                msg = valid[:8] + os.urandom(16) + valid[24:]
            else:
                msg = garbage[(sent // 4) % 3]
            s.sendto(msg, (dst, int(port)))
            sent += 1
    print(sent)


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "flood":
        flood(a[0], a[1], a[2], a[3:])
    elif cmd == "answer":
        src, sport, dst, dport, nonce, oaddr, oport = a[:7]
        if "--junkmac" in a:
            msg = message(ANSWER, F_AUTH, bytes.fromhex(nonce),
                          [obs4(oaddr, int(oport))], os.urandom(32))
        else:
            msg = message(ANSWER, 0, bytes.fromhex(nonce), [obs4(oaddr, int(oport))])
        send_raw(src, int(sport), dst, int(dport), msg)
    elif cmd == "update":
        src, sport, dst, dport, keyfile, seq, pub, addr, port = a[:9]
        key = base64.b64decode(open(keyfile).read().strip())
        rec = base64.b64decode(pub) + socket.inet_aton(addr) + struct.pack(">HI", int(port), 0)
        msg = message(UPDATE, F_AUTH, os.urandom(16),
                      [field(PF_SEQ, struct.pack(">Q", int(seq))), field(PF_REC4, rec)], key)
        if "--badmac" in a:
            msg = msg[:-1] + bytes([msg[-1] ^ 1])
        send_raw(src, int(sport), dst, int(dport), msg)
    elif cmd == "relay":
        src, sport, dst, dport, pub, peer = a[:6]
        relay = field(PF_RELAY, base64.b64decode(peer))
        if len(a) > 6:
            key = base64.b64decode(open(a[6]).read().strip())
            msg = message(REQUEST, F_AUTH, os.urandom(16),
                          [field(PF_PUBKEY, base64.b64decode(pub)),
                           field(PF_SEQ, struct.pack(">Q", time.time_ns())),
                           relay, field(PF_PAD, bytes(18))], key)
            if "--badmac" in a:
                msg = msg[:-1] + bytes([msg[-1] ^ 1])
        else:
            # a public key needs the MAC: without, the relay field alone
            msg = message(REQUEST, 0, os.urandom(16), [relay, field(PF_PAD, bytes(18))])
        send_raw(src, int(sport), dst, int(dport), msg)
    elif cmd == "birthday":
        src, sport, dst, dport, pub = a[:5]
        if len(a) > 5:
            key = base64.b64decode(open(a[5]).read().strip())
            msg = message(BIRTHDAY, F_AUTH, os.urandom(16),
                          [field(PF_PUBKEY, base64.b64decode(pub))], key)
            if "--badmac" in a:
                msg = msg[:-1] + bytes([msg[-1] ^ 1])
        else:
            # a public key needs the MAC: without, nothing but the header
            msg = message(BIRTHDAY, 0, os.urandom(16), [])
        send_raw(src, int(sport), dst, int(dport), msg)
    elif cmd == "raw":
        send_raw(a[0], int(a[1]), a[2], int(a[3]), bytes.fromhex(a[4]),
                 "--nocsum" in a)
    elif cmd == "sniff":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        s.bind((a[0], 0))
        s.settimeout(float(a[1]))
        print("ready", file=sys.stderr, flush=True)
        while True:
            pkt = s.recv(2048)
            ihl = (pkt[0] & 15) * 4
            if pkt[9] != 17:
                continue
            payload = pkt[ihl + 8:]
            if len(payload) >= 24 and struct.unpack(">I", payload[:4])[0] == MAGIC \
                    and payload[4] == int(a[2]):
                print(payload.hex())
                return
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
