/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "podman-api.h"

#define API_PREFIX "/v4.0.0/libpod/containers/"
#define RESPONSE_MAX 16384 /* podman answers these calls with no body or a short JSON error */
#define MESSAGE_MAX 1024

struct podman_api {
        sd_event *event;
        char *socket_path;
};

/* One request on its own connection: write it, read the response until podman closes. */
struct podman_call {
        struct podman_api *api;
        int fd;
        sd_event_source *io, *timer;
        char *request;
        size_t request_len, written;
        char response[RESPONSE_MAX];
        size_t response_len;
        podman_api_done_t done;
        void *userdata;
};

static void call_free(struct podman_call *c) {
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        free(c->request);
        free(c);
}

/* podman's error body is {"cause":"…","message":"…","response":N}: the message is what a person needs. */
static void error_message(const char *body, char *buf, size_t len) {
        const char *m = strstr(body, "\"message\":\"");
        size_t i = 0;

        if (!m) {
                snprintf(buf, len, "%.*s", (int) (len - 1), body[0] ? body : "no message");
                return;
        }
        for (m += 11; *m && *m != '"' && i + 1 < len; m++)
                if (*m != '\\')
                        buf[i++] = *m;
        buf[i] = '\0';
}

/* Ends the call with r and msg (freed first, so done may start another call). */
static void call_end(struct podman_call *c, int r, const char *msg) {
        podman_api_done_t done = c->done;
        void *userdata = c->userdata;
        char copy[MESSAGE_MAX];

        snprintf(copy, sizeof(copy), "%s", msg);
        call_free(c);
        done(r, copy, userdata);
}

/* podman closed the connection: what did it answer? */
static void call_finish(struct podman_call *c) {
        char body[MESSAGE_MAX], msg[MESSAGE_MAX] = "";
        int status = 0, r;

        r = http_parse_response(c->response, c->response_len, &status, body, sizeof(body));
        if (r < 0) {
                call_end(c, -EIO, "podman API: not an HTTP response");
                return;
        }
        if (status / 100 != 2) {
                error_message(body, msg, sizeof(msg));
                r = status == 404 ? -ENOENT : -EIO;
        }
        call_end(c, r, msg);
}

static int call_write(struct podman_call *c) {
        ssize_t n = send(c->fd, c->request + c->written, c->request_len - c->written, MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        c->written += (size_t) n;
        if (c->written == c->request_len)
                return sd_event_source_set_io_events(c->io, EPOLLIN);
        return 0;
}

/* 1: podman closed the connection, the response is whole. */
static int call_read(struct podman_call *c) {
        char discard[4096];
        char *to = c->response_len < sizeof(c->response) ? c->response + c->response_len : discard;
        size_t room = c->response_len < sizeof(c->response) ? sizeof(c->response) - c->response_len : sizeof(discard);
        ssize_t n = recv(c->fd, to, room, 0);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        if (n == 0)
                return 1;
        if (to != discard)
                c->response_len += (size_t) n;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct podman_call *c = userdata;
        char msg[MESSAGE_MAX];
        int r = 0;

        if (c->written < c->request_len && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                r = call_write(c);
        else if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = call_read(c);
        if (r > 0)
                call_finish(c);
        else if (r < 0) {
                snprintf(msg, sizeof(msg), "podman API on %s: %s", c->api->socket_path, strerror(-r));
                call_end(c, -EIO, msg);
        }
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct podman_call *c = userdata;
        char msg[MESSAGE_MAX];

        snprintf(msg, sizeof(msg), "podman API on %s: no answer within the step's timeout", c->api->socket_path);
        call_end(c, -ETIME, msg);
        return 0;
}

/* A non-blocking connection; -EHOSTUNREACH when nothing listens there (the caller uses the CLI). */
static int api_connect(const char *path, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* A unix socket connects at once or not at all (EAGAIN: podman's backlog is full; the CLI it is). */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                int r = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTSOCK ? -EHOSTUNREACH
                                                                                        : negative_errno();
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/*
 * Connection refused or no socket: done(-EHOSTUNREACH) from the loop, not from
 * inside the caller's call (callers may not expect their callback yet).
 */
static int on_unreachable(sd_event_source *s, void *userdata) {
        struct podman_call *c = userdata;
        char msg[MESSAGE_MAX];

        snprintf(msg, sizeof(msg), "podman's API does not answer on %s", c->api->socket_path);
        call_end(c, -EHOSTUNREACH, msg);
        return 0;
}

static int call_start(struct podman_api *a, const char *name, const char *what, uint64_t timeout_usec,
                      podman_api_done_t done, void *userdata, struct podman_call **ret) {
        _cleanup_free_ char *escaped = NULL, *path = NULL;
        struct podman_call *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        *c = (struct podman_call) { .api = a, .fd = -1, .done = done, .userdata = userdata };
        r = http_escape(name, &escaped);
        if (r >= 0 && asprintf(&path, API_PREFIX "%s/%s", escaped, what) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = http_format_post(path, &c->request);
        if (r >= 0) {
                c->request_len = strlen(c->request);
                r = api_connect(a->socket_path, &c->fd);
        }
        if (r == -EHOSTUNREACH)
                r = sd_event_add_defer(a->event, &c->io, on_unreachable, c);
        else if (r >= 0)
                r = sd_event_add_io(a->event, &c->io, c->fd, EPOLLOUT, on_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(a->event, &c->timer, CLOCK_MONOTONIC, timeout_usec, 1000, on_timeout, c);
        if (r < 0) {
                call_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int podman_api_restart(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                       void *userdata, struct podman_call **ret) {
        return call_start(a, name, "restart", timeout_usec, done, userdata, ret);
}

int podman_api_kill(struct podman_api *a, const char *name, int sig, uint64_t timeout_usec, podman_api_done_t done,
                    void *userdata, struct podman_call **ret) {
        char what[32];

        snprintf(what, sizeof(what), "kill?signal=%d", sig);
        return call_start(a, name, what, timeout_usec, done, userdata, ret);
}

void podman_call_cancel(struct podman_call *c) {
        if (c)
                call_free(c);
}

int podman_api_new(sd_event *event, const char *socket_path, struct podman_api **ret) {
        struct podman_api *a = calloc(1, sizeof(*a));

        if (!a || !(a->socket_path = strdup(socket_path))) {
                free(a);
                return -ENOMEM;
        }
        a->event = sd_event_ref(event);
        *ret = a;
        return 0;
}

void podman_api_free(struct podman_api *a) {
        if (!a)
                return;
        sd_event_unref(a->event);
        free(a->socket_path);
        free(a);
}
