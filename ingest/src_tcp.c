/* SPDX-License-Identifier: MIT */
/* src_tcp.c: rows over any number of TCP connections in one epoll; the stream-socket code unix shares. */
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define SOCK_ACCEPT_BURST 256   /* accepts per pump */
#define SOCK_EVENTS       64    /* connection events per pump */
#define SOCK_READS        4     /* reads per ready connection per pump */
#define SOCK_EMFILE_MS    100   /* accept pause when out of descriptors */

static struct log_limit lim_accept;

/* Accept what is pending; the listener's epoll entry has data.ptr NULL. */
static void sock_accept(struct ingest *ing, struct ing_source *s, struct ing_sock *ss)
{
	for (int i = 0; i < SOCK_ACCEPT_BURST; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct ing_stream *st;
		char peer[64];
		int fd = accept4(ss->lfd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: stop watching the listener for a
				 * moment instead of spinning on it. */
				log_limited(&lim_accept, LOG_LVL_WARN, "%s: accept: %s (pausing accepts %d ms)", s->name,
					    strerror(errno), SOCK_EMFILE_MS);
				epoll_ctl(s->epfd, EPOLL_CTL_DEL, ss->lfd, NULL);
				ss->accepting = false;
				s->wake_ms = ing_now_ms() + SOCK_EMFILE_MS;
			} else if (errno != EAGAIN) {
				log_limited(&lim_accept, LOG_LVL_WARN, "%s: accept: %s", s->name, strerror(errno));
			}
			return;
		}
		ss->conn_seq++;
		if (sa.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&sa;
			char ip[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
			snprintf(peer, sizeof(peer), "%s:%u", ip, ntohs(a->sin_port));
		} else if (sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(peer, sizeof(peer), "[%s]:%u", ip, ntohs(a->sin6_port));
		} else {
			snprintf(peer, sizeof(peer), "connection %llu", (unsigned long long)ss->conn_seq);
		}
		st = ing_stream_new(ing, s, fd, ING_CONN_BUF, peer);
		if (!st) {
			log_limited(&lim_accept, LOG_LVL_WARN, "%s: out of memory for connection %s", s->name, peer);
			continue;
		}
		ev.data.ptr = st;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_limited(&lim_accept, LOG_LVL_WARN, "%s: epoll: %s", s->name, strerror(errno));
			ing_stream_free(ing, st);
			continue;
		}
		st->in_epoll = true;
		stat_add(&s->st->connections, 1);
		stat_add(&s->st->open_connections, 1);
	}
}

void ing_sock_pump(struct ingest *ing, struct ing_source *s)
{
	struct ing_sock *ss = s->priv;
	struct epoll_event evs[SOCK_EVENTS];
	int n;

	if (!ss->accepting && s->wake_ms == 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ss->lfd, &ev) == 0)
			ss->accepting = true;
	}
	n = epoll_wait(s->epfd, evs, SOCK_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		struct ing_stream *st = evs[i].data.ptr;

		if (!st) {
			sock_accept(ing, s, ss);
			continue;
		}
		if (ing_stream_pump(ing, st, SOCK_READS) == 1)
			return; /* blocked: the rest is reported again once it clears */
		if (s->blocked)
			return;
	}
}

void ing_sock_stream_eof(struct ingest *ing, struct ing_source *s, struct ing_stream *st)
{
	stat_add(&s->st->open_connections, (uint64_t)-1);
	ing_stream_free(ing, st);
}

void ing_sock_stop(struct ingest *ing, struct ing_source *s)
{
	struct ing_sock *ss = s->priv;

	if (!ss)
		return;
	while (s->streams) {
		stat_add(&s->st->open_connections, (uint64_t)-1);
		ing_stream_free(ing, s->streams);
	}
	if (ss->lfd >= 0)
		close(ss->lfd);
	if (ss->unix_path[0])
		unlink(ss->unix_path);
	free(ss);
	s->priv = NULL;
}

int ing_sock_listening(struct ing_source *s, struct ing_sock *ss)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd == -1 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, ss->lfd, &ev) == -1) {
		log_err("%s: epoll: %s", s->name, strerror(errno));
		return 111;
	}
	ss->accepting = true;
	stat_set(&s->st->open_connections, 0);
	return 0;
}

/* Split "host:port", "[v6]:port" or ":port" (loopback). */
static int split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(listen, ':');
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= pcap)
		return -1;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= hcap)
		return -1;
	if (hl == 0) {
		snprintf(host, hcap, "127.0.0.1");
	} else {
		memcpy(host, listen, hl);
		host[hl] = 0;
	}
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int tcp_start(struct ingest *ing, struct ing_source *s)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	const char *listen_at = s->cfg->listen ? s->cfg->listen : "127.0.0.1:20044";
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct ing_sock *ss;
	char host[256], port[16];
	int one = 1, err, rc;

	(void)ing;
	snprintf(s->name, sizeof(s->name), "tcp %s", listen_at);
	if (split_listen(listen_at, host, sizeof(host), port, sizeof(port))) {
		log_err("%s: listen must be HOST:PORT", s->name);
		return 100;
	}
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		log_err("%s: %s", s->name, gai_strerror(err));
		return err == EAI_AGAIN ? 111 : 100;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		freeaddrinfo(ai);
		return 111;
	}
	ss->lfd = -1;
	s->priv = ss;
	ss->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ss->lfd == -1) {
		log_err("%s: socket: %s", s->name, strerror(errno));
		freeaddrinfo(ai);
		return 111;
	}
	setsockopt(ss->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ss->lfd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(ss->lfd, SOMAXCONN) == -1) {
		err = errno;
		log_err("%s: bind: %s", s->name, strerror(err));
		freeaddrinfo(ai);
		/* A port in use may free up; a bad address will not. */
		return err == EADDRINUSE ? 111 : 100;
	}
	freeaddrinfo(ai);
	if (getsockname(ss->lfd, (struct sockaddr *)&sa, &salen) == 0) {
		unsigned p = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
						      : ntohs(((struct sockaddr_in *)&sa)->sin_port);

		stat_set(&s->st->listen_port, p);
		log_info("%s: listening on port %u", s->name, p);
	}
	rc = ing_sock_listening(s, ss);
	return rc;
}

const struct ing_src_ops ing_src_tcp_ops = {
	.start = tcp_start,
	.pump = ing_sock_pump,
	.stream_eof = ing_sock_stream_eof,
	.stop = ing_sock_stop,
};

