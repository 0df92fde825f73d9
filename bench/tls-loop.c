/* SPDX-License-Identifier: MIT */
/*
 * tls-loop PORT MAX STOPFILE READYFILE: TLS handshakes against 127.0.0.1:PORT, one after the
 * other (a 5 s bound on each: a slow handshake is not a failed one), until STOPFILE exists
 * or MAX were made. READYFILE is created after
 * the first successful handshake. Prints one line:
 *   attempts=N failed=F window_ms=W slowest_ms=S serials=K
 * failed: handshakes that did not complete; window_ms: the longest time from the last success
 * before a failure to the first success after it (the no-service window; 0 without failures);
 * slowest_ms: the slowest successful handshake; serials: distinct certificates seen.
 * For bench/bench-downtime.sh; loopback only, no certificate validation (identity is not the
 * question here, availability is).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STEP_MS 5000

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* Waits for fd to be ready for events, up to the step's deadline. */
static int wait_fd(int fd, short events, double deadline) {
        struct pollfd p = { .fd = fd, .events = events };
        double left = deadline - now_ms();

        return left > 0 && poll(&p, 1, (int) left + 1) == 1 ? 0 : -1;
}

/* One handshake; its certificate's serial in serial (hex) on success. */
static int handshake(SSL_CTX *ctx, int port, char *serial, size_t len) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        double deadline = now_ms() + STEP_MS;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r = -1, e;
        SSL *ssl = NULL;
        X509 *x;

        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0 && errno != EINPROGRESS)
                goto out;
        if (wait_fd(fd, POLLOUT, deadline) < 0)
                goto out;
        socklen_t el = sizeof(e);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0)
                goto out;
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_connect_state(ssl);
        for (;;) {
                int k = SSL_do_handshake(ssl);

                if (k == 1)
                        break;
                k = SSL_get_error(ssl, k);
                if ((k != SSL_ERROR_WANT_READ && k != SSL_ERROR_WANT_WRITE) ||
                    wait_fd(fd, k == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) < 0)
                        goto out;
        }
        x = SSL_get1_peer_certificate(ssl);
        if (x) {
                BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
                char *hex = bn ? BN_bn2hex(bn) : NULL;

                snprintf(serial, len, "%s", hex ? hex : "?");
                OPENSSL_free(hex);
                BN_free(bn);
                X509_free(x);
                r = 0;
        }
out:
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
        return r;
}

int main(int argc, char **argv) {
        char serial[128], seen[8][128];
        double last_ok = 0, window = 0, slowest = 0;
        long attempts = 0, failed = 0, max;
        int port, n_seen = 0, in_outage = 0;
        SSL_CTX *ctx;

        if (argc != 5) {
                fprintf(stderr, "usage: tls-loop PORT MAX STOPFILE READYFILE\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN); /* a server going away mid-handshake is a failed handshake, not our end */
        port = atoi(argv[1]);
        max = atol(argv[2]);
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake a full one */
        while (attempts < max && access(argv[3], F_OK) != 0) {
                double t = now_ms();

                attempts++;
                if (handshake(ctx, port, serial, sizeof(serial)) < 0) {
                        failed++;
                        in_outage = 1;
                        usleep(2000);
                        continue;
                }
                if (now_ms() - t > slowest)
                        slowest = now_ms() - t;
                if (in_outage && last_ok > 0 && now_ms() - last_ok > window)
                        window = now_ms() - last_ok;
                in_outage = 0;
                if (last_ok == 0)
                        close(open(argv[4], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
                last_ok = now_ms();
                int known = 0;
                for (int i = 0; i < n_seen; i++)
                        known = known || strcmp(seen[i], serial) == 0;
                if (!known && n_seen < 8)
                        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", serial);
                usleep(2000);
        }
        if (in_outage && last_ok > 0 && now_ms() - last_ok > window)
                window = now_ms() - last_ok; /* still down at the end */
        printf("attempts=%ld failed=%ld window_ms=%.0f slowest_ms=%.0f serials=%d\n", attempts, failed, window, slowest,
               n_seen);
        SSL_CTX_free(ctx);
        return 0;
}
