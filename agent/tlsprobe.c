/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tlsprobe.h"

#define PROBE_INTERVAL_USEC (500 * 1000ULL)

struct tlsprobe {
        sd_event *event;
        char *host, *port, *sni;
        unsigned char want[EVP_MAX_MD_SIZE];
        unsigned want_len;
        char want_serial[80];
        SSL_CTX *ctx;
        SSL *ssl;
        int fd;
        sd_event_source *io, *retry, *deadline;
        char last[512];
        bool stale;    /* the last attempt ended on another certificate */
        bool mismatch; /* this attempt did */
        tlsprobe_done_t done;
        void *userdata;
};

static void serial_text(X509 *x, char *buf, size_t len) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;

        snprintf(buf, len, "%s", hex ? hex : "?");
        OPENSSL_free(hex);
        BN_free(bn);
}

static int load_expected(struct tlsprobe *p, const char *cert_path) {
        FILE *f = fopen(cert_path, "re");
        X509 *x;
        int r = 0;

        if (!f)
                return negative_errno();
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (!x || X509_digest(x, EVP_sha256(), p->want, &p->want_len) != 1)
                r = -EBADMSG;
        else
                serial_text(x, p->want_serial, sizeof(p->want_serial));
        X509_free(x);
        ERR_clear_error();
        return r;
}

static void connection_close(struct tlsprobe *p) {
        p->io = sd_event_source_disable_unref(p->io);
        SSL_free(p->ssl);
        p->ssl = NULL;
        if (p->fd >= 0)
                close(p->fd);
        p->fd = -1;
}

static void probe_free(struct tlsprobe *p) {
        connection_close(p);
        sd_event_source_disable_unref(p->retry);
        sd_event_source_disable_unref(p->deadline);
        SSL_CTX_free(p->ctx);
        sd_event_unref(p->event);
        free(p->host);
        free(p->port);
        free(p->sni);
        free(p);
}

static void probe_end(struct tlsprobe *p, int r, const char *message) {
        tlsprobe_done_t done = p->done;
        void *userdata = p->userdata;
        char msg[sizeof(p->last)];

        snprintf(msg, sizeof(msg), "%s", message);
        probe_free(p);
        done(r, msg, userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* This attempt is over; another one follows shortly (the deadline ends the series). */
static void attempt_failed(struct tlsprobe *p, const char *fmt, ...) _printf_(2, 3);
static void attempt_failed(struct tlsprobe *p, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(p->last, sizeof(p->last), fmt, ap);
        va_end(ap);
        p->stale = p->mismatch;
        p->mismatch = false;
        ERR_clear_error();
        connection_close(p);
        if (sd_event_add_time_relative(p->event, &p->retry, CLOCK_MONOTONIC, PROBE_INTERVAL_USEC, 1000, on_retry, p) < 0)
                probe_end(p, -ENOMEM, "out of memory");
}

static void compare_served(struct tlsprobe *p) {
        X509 *peer = SSL_get1_peer_certificate(p->ssl);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char serial[80];

        if (!peer) {
                attempt_failed(p, "%s:%s presented no certificate", p->host, p->port);
                return;
        }
        X509_digest(peer, EVP_sha256(), md, &md_len);
        serial_text(peer, serial, sizeof(serial));
        X509_free(peer);
        if (md_len == p->want_len && memcmp(md, p->want, md_len) == 0) {
                char msg[160];

                snprintf(msg, sizeof(msg), "serving serial %s on %s:%s", serial, p->host, p->port);
                probe_end(p, 0, msg);
                return;
        }
        p->mismatch = true;
        attempt_failed(p, "%s:%s still serving serial %s, not the new serial %s", p->host, p->port, serial,
                       p->want_serial);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void handshake(struct tlsprobe *p) {
        int r = SSL_do_handshake(p->ssl), e;

        if (r == 1) {
                compare_served(p);
                return;
        }
        e = SSL_get_error(p->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                sd_event_source_set_io_events(p->io, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                return;
        }
        attempt_failed(p, "TLS handshake with %s:%s failed: %s", p->host, p->port,
                       ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error())
                                                                       : "connection closed");
}

static void connected(struct tlsprobe *p) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
                attempt_failed(p, "cannot connect to %s:%s: %s", p->host, p->port, strerror(err ? err : errno));
                return;
        }
        p->ssl = SSL_new(p->ctx);
        if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1 ||
            (p->sni && SSL_set_tlsext_host_name(p->ssl, p->sni) != 1)) {
                attempt_failed(p, "cannot set up TLS for %s:%s", p->host, p->port);
                return;
        }
        SSL_set_connect_state(p->ssl);
        handshake(p);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct tlsprobe *p = userdata;

        if (!p->ssl)
                connected(p);
        else
                handshake(p);
        return 0;
}

static void attempt(struct tlsprobe *p) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
        int r = getaddrinfo(p->host, p->port, &hints, &ai);


        if (r != 0) {
                attempt_failed(p, "cannot resolve %s: %s", p->host, gai_strerror(r));
                return;
        }
        p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0 || (connect(p->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
                int e = errno;

                freeaddrinfo(ai);
                attempt_failed(p, "cannot connect to %s:%s: %s", p->host, p->port, strerror(e));
                return;
        }
        freeaddrinfo(ai);
        if (sd_event_add_io(p->event, &p->io, p->fd, EPOLLOUT, on_io, p) < 0)
                attempt_failed(p, "out of memory");
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct tlsprobe *p = userdata;

        p->retry = sd_event_source_disable_unref(p->retry);
        attempt(p);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        struct tlsprobe *p = userdata;

        probe_end(p, p->stale ? -ESTALE : -ETIME, p->last[0] ? p->last : "no TLS answer before the timeout");
        return 0;
}

/* "host:port" or "[v6]:port" */
static int split_hostport(const char *s, char **host, char **port) {
        const char *colon = strrchr(s, ':');
        size_t hl;

        if (!colon || !colon[1])
                return -EINVAL;
        hl = (size_t) (colon - s);
        if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']')
                *host = strndup(s + 1, hl - 2);
        else
                *host = strndup(s, hl);
        *port = strdup(colon + 1);
        return *host && *port ? 0 : -ENOMEM;
}

int tlsprobe_start(sd_event *event, const char *hostport, const char *sni, const char *cert_path, uint64_t timeout_usec,
                   tlsprobe_done_t done, void *userdata, struct tlsprobe **ret) {
        struct tlsprobe *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        p->fd = -1;
        p->event = sd_event_ref(event);
        p->done = done;
        p->userdata = userdata;
        r = split_hostport(hostport, &p->host, &p->port);
        if (r >= 0 && sni && sni[0] && !(p->sni = strdup(sni)))
                r = -ENOMEM;
        if (r >= 0)
                r = load_expected(p, cert_path);
        if (r >= 0 && !(p->ctx = SSL_CTX_new(TLS_client_method())))
                r = -ENOMEM;
        if (r >= 0)
                r = sd_event_add_time_relative(event, &p->deadline, CLOCK_MONOTONIC, timeout_usec, 1000, on_deadline, p);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &p->retry, CLOCK_MONOTONIC, 0, 1000, on_retry, p);
        if (r < 0) {
                probe_free(p);
                return r;
        }
        /* No verification: the fingerprint comparison is the check. */
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
        *ret = p;
        return 0;
}

void tlsprobe_cancel(struct tlsprobe *p) {
        if (p)
                probe_free(p);
}
