/*
 * relay.c: a bare C UDP relay, the reference figure of docs/performance.md.
 *
 * The release target for the appliance's RTP relay (media/rtp) is a CPU
 * cost per forwarded packet within 1.3x of "a bare C relay". This is that
 * relay, kept as small as a relay can be, so the comparison is made on the
 * same machine under the same load generator (tests/bench BenchmarkRelay,
 * rtpload pairs) instead of against a figure quoted from elsewhere. It
 * does the least any RTP relay must: symmetric RTP (each socket sends to
 * where its peer's packets come from) and forwarding. No parsing, no
 * header rewriting, no statistics, no timeouts.
 *
 *	relay <bind-ip> <pairs> <ports-file>
 *
 * It binds 2 x pairs non-blocking UDP sockets on bind-ip (IPv4) on ports
 * the kernel chooses, writes "portA portB" per pair to ports-file (whole:
 * written aside and renamed, so a reader never sees half of it), then one
 * thread relays until SIGTERM or SIGINT: a level-triggered epoll, one
 * recvfrom per ready socket per wake-up (a socket with more queued is
 * reported again by the next epoll_wait, so no read ends in EAGAIN), the
 * source latched as that socket's peer, and a sendto from the paired
 * socket to the pair's other latched peer; dropped if that peer has not
 * sent yet.
 *
 * Plain C99 and POSIX/Linux calls: gcc -O2 relay.c, no extra libraries.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* leg is one socket of a pair and the peer latched on it. */
struct leg {
	int fd;
	int other;              /* index of the paired leg */
	int latched;            /* a packet has arrived: peer is valid */
	struct sockaddr_in peer;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int die(const char *what) {
	perror(what);
	return 1;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: %s <bind-ip> <pairs> <ports-file>\n", argv[0]);
		return 2;
	}
	struct in_addr ip;
	if (inet_pton(AF_INET, argv[1], &ip) != 1) {
		fprintf(stderr, "relay: %s is not an IPv4 address\n", argv[1]);
		return 2;
	}
	char *end;
	long pairs = strtol(argv[2], &end, 10);
	if (*end != '\0' || pairs < 1 || pairs > 100000) {
		fprintf(stderr, "relay: pairs %s: want 1 to 100000\n", argv[2]);
		return 2;
	}

	/* Two descriptors per pair plus a few: raise the soft limit to the hard one. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* No SA_RESTART: SIGTERM interrupts epoll_wait, which then sees stop. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int n = (int)(2 * pairs);
	struct leg *legs = calloc((size_t)n, sizeof *legs);
	if (legs == NULL)
		return die("calloc");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return die("epoll_create1");
	int ports[2];
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]) >= (int)sizeof tmp) {
		fprintf(stderr, "relay: ports file name too long\n");
		return 2;
	}
	FILE *pf = fopen(tmp, "w");
	if (pf == NULL)
		return die(tmp);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return die("socket");
		struct sockaddr_in a;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr = ip;
		a.sin_port = 0; /* the kernel chooses */
		if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
			return die("bind");
		socklen_t alen = sizeof a;
		if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
			return die("getsockname");
		legs[i].fd = fd;
		legs[i].other = i ^ 1; /* legs 2k and 2k+1 are pair k */
		struct epoll_event ev;
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN; /* level-triggered */
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return die("epoll_ctl");
		ports[i & 1] = ntohs(a.sin_port);
		if (i & 1)
			fprintf(pf, "%d %d\n", ports[0], ports[1]);
	}
	if (fclose(pf) != 0)
		return die(tmp);
	if (rename(tmp, argv[3]) < 0)
		return die("rename");

	struct epoll_event events[256];
	unsigned char buf[2048];
	while (!stop) {
		int k = epoll_wait(ep, events, 256, -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return die("epoll_wait");
		}
		for (int j = 0; j < k; j++) {
			struct leg *in = &legs[events[j].data.u32];
			struct sockaddr_in from;
			socklen_t flen = sizeof from;
			ssize_t m = recvfrom(in->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
			if (m < 0)
				continue; /* EAGAIN, or an ICMP error reported on the socket */
			in->peer = from;
			in->latched = 1;
			struct leg *out = &legs[in->other];
			if (!out->latched)
				continue; /* nowhere to send yet */
			sendto(out->fd, buf, (size_t)m, 0, (struct sockaddr *)&out->peer, sizeof out->peer);
		}
	}
	return 0;
}
