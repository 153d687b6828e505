/*
 * uring.c: the same bare C UDP relay as relay.c, on io_uring instead of
 * epoll and one system call per packet: the cheapest way this kernel
 * offers to move a datagram from one socket to another, and so the lower
 * bound of what any relay can cost per packet on a given machine
 * (tests/bench BenchmarkRelay measures it beside relay.c and media/rtp).
 *
 *	uring <bind-ip> <pairs> <ports-file>
 *
 * Arguments, sockets, the ports file and the forwarding rule (symmetric
 * RTP, no parsing, dropped until the other side has latched) are
 * relay.c's. The difference is how packets reach the kernel: every socket
 * has one multishot recvmsg outstanding, which fills buffers the kernel
 * picks from a provided-buffer ring; each completion latches the sender
 * and queues a send of the same buffer from the paired socket; and one
 * io_uring_enter both submits every queued send and waits for the next
 * completions. Files are registered, so no operation looks up a
 * descriptor. A buffer returns to the ring when its send completes.
 *
 * Needs liburing (Debian liburing-dev) and Linux 6.0 or later:
 * gcc -O2 uring.c -luring.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* leg is one socket of a pair and the peer latched on it. */
struct leg {
	int other;              /* index of the paired leg */
	int latched;            /* a packet has arrived: peer is valid */
	struct sockaddr_in peer;
};

enum {
	NBUF = 16384,           /* provided buffers: packets in flight at once */
	BUFSZ = 2048,           /* one datagram, with recvmsg's header and name */
	SQ_ENTRIES = 4096,
	CQ_ENTRIES = 65536,
	BGID = 0,               /* the buffer group */
};

/* A completion's user data: a send carries its buffer, a receive its leg. */
#define TAG_SEND (1ULL << 40)

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static unsigned char *bufs;
static int to_return;           /* buffers added to the ring, not yet published */
static struct msghdr rmsg;      /* the shape of every receive: name, no control */

static int die(const char *what, int err) {
	fprintf(stderr, "uring: %s: %s\n", what, strerror(err));
	return 1;
}

/* sqe returns a free submission slot, submitting the queue if it is full. */
static struct io_uring_sqe *sqe(void) {
	struct io_uring_sqe *s = io_uring_get_sqe(&ring);
	if (s == NULL) {
		io_uring_submit(&ring);
		s = io_uring_get_sqe(&ring);
	}
	return s;
}

/* arm starts leg i's multishot receive (again, once the kernel ended it). */
static void arm(int i) {
	struct io_uring_sqe *s = sqe();
	io_uring_prep_recvmsg_multishot(s, i, &rmsg, 0);
	s->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	io_uring_sqe_set_data64(s, (uint64_t)i);
}

/* give_back returns buffer bid to the ring; published after the batch. */
static void give_back(int bid) {
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUFSZ, BUFSZ, (unsigned short)bid,
	                      io_uring_buf_ring_mask(NBUF), to_return++);
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: %s <bind-ip> <pairs> <ports-file>\n", argv[0]);
		return 2;
	}
	struct in_addr ip;
	if (inet_pton(AF_INET, argv[1], &ip) != 1) {
		fprintf(stderr, "uring: %s is not an IPv4 address\n", argv[1]);
		return 2;
	}
	char *end;
	long pairs = strtol(argv[2], &end, 10);
	if (*end != '\0' || pairs < 1 || pairs > 100000) {
		fprintf(stderr, "uring: pairs %s: want 1 to 100000\n", argv[2]);
		return 2;
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* The ring first: a kernel without io_uring fails before any socket. */
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	/* One thread submits, and completions are reaped only when it asks:
	 * the kernel runs their work in the io_uring_enter that waits. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = CQ_ENTRIES;
	int r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	if (r < 0)
		return die("io_uring_queue_init", -r);

	int n = (int)(2 * pairs);
	struct leg *legs = calloc((size_t)n, sizeof *legs);
	int *fds = calloc((size_t)n, sizeof *fds);
	if (legs == NULL || fds == NULL)
		return die("calloc", ENOMEM);
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]) >= (int)sizeof tmp) {
		fprintf(stderr, "uring: ports file name too long\n");
		return 2;
	}
	FILE *pf = fopen(tmp, "w");
	if (pf == NULL)
		return die(tmp, errno);
	int ports[2];
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return die("socket", errno);
		struct sockaddr_in a;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr = ip;
		if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
			return die("bind", errno);
		socklen_t alen = sizeof a;
		if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
			return die("getsockname", errno);
		fds[i] = fd;
		legs[i].other = i ^ 1; /* legs 2k and 2k+1 are pair k */
		ports[i & 1] = ntohs(a.sin_port);
		if (i & 1)
			fprintf(pf, "%d %d\n", ports[0], ports[1]);
	}
	if ((r = io_uring_register_files(&ring, fds, (unsigned)n)) < 0)
		return die("io_uring_register_files", -r);

	br = aligned_alloc(4096, NBUF * sizeof(struct io_uring_buf));
	bufs = aligned_alloc(4096, (size_t)NBUF * BUFSZ);
	if (br == NULL || bufs == NULL)
		return die("aligned_alloc", ENOMEM);
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = NBUF, .bgid = BGID};
	if ((r = io_uring_register_buf_ring(&ring, &reg, 0)) < 0)
		return die("io_uring_register_buf_ring", -r);
	for (int b = 0; b < NBUF; b++)
		give_back(b);
	io_uring_buf_ring_advance(br, to_return);
	to_return = 0;

	rmsg.msg_namelen = sizeof(struct sockaddr_in);
	for (int i = 0; i < n; i++)
		arm(i);
	/* Only now that every receive is armed: the generator starts on the file. */
	if (fclose(pf) != 0)
		return die(tmp, errno);
	if (rename(tmp, argv[3]) < 0)
		return die("rename", errno);

	while (!stop) {
		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			return die("io_uring_enter", -r);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			uint64_t ud = cqe->user_data;
			if (ud & TAG_SEND) {
				give_back((int)(ud & 0xffff));
				continue;
			}
			int i = (int)ud;
			/* Out of buffers or an error: the kernel ended the receive. */
			if (!(cqe->flags & IORING_CQE_F_MORE))
				arm(i);
			if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
				continue;
			int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
			unsigned char *buf = bufs + (size_t)bid * BUFSZ;
			struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, cqe->res, &rmsg);
			if (o == NULL || o->namelen < sizeof(struct sockaddr_in)) {
				give_back(bid);
				continue;
			}
			memcpy(&legs[i].peer, io_uring_recvmsg_name(o), sizeof legs[i].peer);
			legs[i].latched = 1;
			int j = legs[i].other;
			if (!legs[j].latched) {
				give_back(bid); /* nowhere to send yet */
				continue;
			}
			struct io_uring_sqe *s = sqe();
			io_uring_prep_send(s, j, io_uring_recvmsg_payload(o, &rmsg),
			                   io_uring_recvmsg_payload_length(o, cqe->res, &rmsg), 0);
			io_uring_prep_send_set_addr(s, (struct sockaddr *)&legs[j].peer, sizeof legs[j].peer);
			s->flags |= IOSQE_FIXED_FILE;
			io_uring_sqe_set_data64(s, TAG_SEND | (uint64_t)bid);
		}
		io_uring_cq_advance(&ring, seen);
		if (to_return > 0) {
			io_uring_buf_ring_advance(br, to_return);
			to_return = 0;
		}
	}
	return 0;
}
