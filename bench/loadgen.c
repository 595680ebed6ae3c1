// SPDX-License-Identifier: GPL-2.0
/*
 * Load generator for the reflection benchmark: from NSOCK UDP sockets (so
 * as many source ports), keep one request in flight per socket for SECONDS
 * and count the answers.  "kh" sends kh_reflect probe requests, "stun" STUN
 * Binding requests (RFC 5389), so both responders face the same load.
 * Prints: answers, seconds, the busy CPU time of the whole machine meanwhile
 * (all CPUs, from /proc/stat) and our own (getrusage).  The machine's figure
 * is the one to compare: an in-kernel responder does its work in softirq,
 * often in our own context, so "everything but us" undercounts it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/kh_reflect.h>

#define MAX_SOCKS	1024
#define RESEND_NS	50000000LL	/* a lost request is sent again */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Busy CPU time of the whole machine, in clock ticks. */
static long long busy_ticks(void)
{
	long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			 &v[7]) != 8) {
		perror("/proc/stat");
		exit(1);
	}
	fclose(f);
	/* user nice system (idle iowait) irq softirq steal */
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

static double own_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static size_t make_request(int stun, uint8_t *buf, uint8_t *id)
{
	if (getrandom(id, 16, 0) != 16)
		exit(1);
	if (stun) {
		/* Binding request, no attributes: type, length 0, cookie, id */
		buf[0] = 0x00;
		buf[1] = 0x01;
		buf[2] = buf[3] = 0;
		buf[4] = 0x21;
		buf[5] = 0x12;
		buf[6] = 0xa4;
		buf[7] = 0x42;
		memcpy(buf + 8, id, 12);
		return 20;
	}
	memset(buf, 0, KH_PROBE_REQ_MIN_LEN);
	buf[0] = KH_PROBE_MAGIC >> 24;
	buf[1] = (KH_PROBE_MAGIC >> 16) & 0xff;
	buf[2] = (KH_PROBE_MAGIC >> 8) & 0xff;
	buf[3] = KH_PROBE_MAGIC & 0xff;
	buf[4] = KH_PROBE_REQUEST;
	buf[7] = KH_PROBE_REQ_MIN_LEN;
	memcpy(buf + 8, id, KH_NONCE_LEN);
	buf[KH_PROBE_HDR_LEN] = KH_PF_PAD;
	buf[KH_PROBE_HDR_LEN + 1] = KH_PROBE_REQ_MIN_LEN - KH_PROBE_HDR_LEN -
				    KH_PF_HDR_LEN;
	return KH_PROBE_REQ_MIN_LEN;
}

static int is_answer(int stun, const uint8_t *buf, ssize_t n, const uint8_t *id)
{
	if (stun)
		return n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 &&
		       !memcmp(buf + 8, id, 12);
	return n >= KH_PROBE_HDR_LEN && buf[0] == (KH_PROBE_MAGIC >> 24) &&
	       buf[4] == KH_PROBE_ANSWER && !memcmp(buf + 8, id, KH_NONCE_LEN);
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_SOCKS];
	static uint8_t ids[MAX_SOCKS][16];
	static int64_t sent_at[MAX_SOCKS];
	uint8_t req[64], buf[2048];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	long long answers = 0, busy0, busy1;
	int64_t start, end, now;
	double own0, seconds;
	int stun, n, i;

	if (argc != 6 || (strcmp(argv[1], "kh") && strcmp(argv[1], "stun"))) {
		fprintf(stderr, "usage: loadgen kh|stun ADDR PORT SECONDS NSOCK\n");
		return 2;
	}
	stun = !strcmp(argv[1], "stun");
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "loadgen: %s: not an IPv4 address\n", argv[2]);
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	seconds = atof(argv[4]);
	n = atoi(argv[5]);
	if (n < 1 || n > MAX_SOCKS || seconds <= 0) {
		fprintf(stderr, "loadgen: NSOCK 1..%d, SECONDS > 0\n", MAX_SOCKS);
		return 2;
	}
	for (i = 0; i < n; i++) {
		pfd[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (pfd[i].fd < 0 || connect(pfd[i].fd, (void *)&dst, sizeof(dst))) {
			perror("loadgen: socket");
			return 1;
		}
		pfd[i].events = POLLIN;
	}

	busy0 = busy_ticks();
	own0 = own_cpu_s();
	start = now_ns();
	end = start + (int64_t)(seconds * 1e9);
	for (i = 0; i < n; i++) {
		size_t len = make_request(stun, req, ids[i]);

		send(pfd[i].fd, req, len, 0);
		sent_at[i] = start;
	}
	while ((now = now_ns()) < end) {
		if (poll(pfd, n, 10) < 0 && errno != EINTR) {
			perror("loadgen: poll");
			return 1;
		}
		now = now_ns();
		for (i = 0; i < n; i++) {
			int again = now - sent_at[i] > RESEND_NS;
			ssize_t got;

			while (pfd[i].revents & POLLIN &&
			       (got = recv(pfd[i].fd, buf, sizeof(buf), 0)) > 0) {
				if (is_answer(stun, buf, got, ids[i])) {
					answers++;
					again = 1;
				}
			}
			if (again) {
				size_t len = make_request(stun, req, ids[i]);

				send(pfd[i].fd, req, len, 0);
				sent_at[i] = now;
			}
		}
	}
	seconds = (now_ns() - start) / 1e9;
	busy1 = busy_ticks();
	printf("%lld %.3f %.4f %.4f\n", answers, seconds,
	       (busy1 - busy0) / (double)sysconf(_SC_CLK_TCK),
	       own_cpu_s() - own0);
	return 0;
}
