/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "podman-api.h"

#define API_PREFIX "http://d/v4.0.0/libpod/containers/"
#define BODY_MAX 4096

struct podman_api {
        sd_event *event;
        char *socket_path;
        CURLM *multi;
        sd_event_source *timer;
};

struct podman_call {
        struct podman_api *api;
        CURL *easy;
        char body[BODY_MAX + 1];
        size_t body_len;
        podman_api_done_t done;
        void *userdata;
};

/* ---- libcurl's sockets and timer on sd-event ---- */

static void process_done(struct podman_api *a);

static int on_socket_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct podman_api *a = userdata;
        int running = 0, what = (revents & EPOLLIN ? CURL_CSELECT_IN : 0) | (revents & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                                (revents & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

        curl_multi_socket_action(a->multi, fd, what, &running);
        process_done(a);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl wants, one sd-event source per socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        struct podman_api *a = userp;
        sd_event_source *src = socketp;
        uint32_t events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? EPOLLIN : 0) |
                          (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? EPOLLOUT : 0);

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(src);
                curl_multi_assign(a->multi, fd, NULL);
                return 0;
        }
        if (src)
                return sd_event_source_set_io_events(src, events) < 0 ? -1 : 0;
        if (sd_event_add_io(a->event, &src, fd, events, on_socket_ready, a) < 0)
                return -1;
        curl_multi_assign(a->multi, fd, src);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct podman_api *a = userdata;
        int running = 0;

        curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        process_done(a);
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed as libcurl asks (-1: none). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        struct podman_api *a = userp;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(a->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (!a->timer)
                return sd_event_add_time_relative(a->event, &a->timer, CLOCK_MONOTONIC, (uint64_t) timeout_ms * 1000,
                                                  1000, on_timer, a) < 0
                               ? -1
                               : 0;
        return sd_event_source_set_time_relative(a->timer, (uint64_t) timeout_ms * 1000) < 0 ||
                               sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT) < 0
                       ? -1
                       : 0;
}

/* ---- calls ---- */

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        struct podman_call *c = userdata;
        size_t len = size * n, k = len < BODY_MAX - c->body_len ? len : BODY_MAX - c->body_len;

        memcpy(c->body + c->body_len, data, k);
        c->body_len += k;
        return len;
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

static void call_free(struct podman_call *c) {
        if (c->easy) {
                curl_multi_remove_handle(c->api->multi, c->easy);
                curl_easy_cleanup(c->easy);
        }
        free(c);
}

static void call_finish(struct podman_call *c, CURLcode code) {
        podman_api_done_t done = c->done;
        void *userdata = c->userdata;
        char msg[1024];
        long status = 0;
        int r = 0;

        c->body[c->body_len] = '\0';
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
                r = -EHOSTUNREACH;
                snprintf(msg, sizeof(msg), "podman's API does not answer on %s", c->api->socket_path);
        } else if (code != CURLE_OK) {
                r = code == CURLE_OPERATION_TIMEDOUT ? -ETIME : -EIO;
                snprintf(msg, sizeof(msg), "podman API: %s", curl_easy_strerror(code));
        } else if (status / 100 != 2) {
                r = status == 404 ? -ENOENT : -EIO;
                error_message(c->body, msg, sizeof(msg));
        } else
                msg[0] = '\0';
        call_free(c);
        done(r, msg, userdata);
}

static void process_done(struct podman_api *a) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(a->multi, &left))) {
                struct podman_call *c = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &c);
                if (c)
                        call_finish(c, m->data.result);
        }
}

static int call_start(struct podman_api *a, const char *name, const char *what, uint64_t timeout_usec,
                      podman_api_done_t done, void *userdata, struct podman_call **ret) {
        struct podman_call *c = calloc(1, sizeof(*c));
        _cleanup_free_ char *url = NULL;
        char *escaped = NULL;

        if (!c)
                return -ENOMEM;
        *c = (struct podman_call) { .api = a, .done = done, .userdata = userdata };
        c->easy = curl_easy_init();
        escaped = c->easy ? curl_easy_escape(c->easy, name, 0) : NULL;
        if (!escaped || asprintf(&url, API_PREFIX "%s/%s", escaped, what) < 0) {
                curl_free(escaped);
                call_free(c);
                return -ENOMEM;
        }
        curl_free(escaped);
        curl_easy_setopt(c->easy, CURLOPT_UNIX_SOCKET_PATH, a->socket_path);
        curl_easy_setopt(c->easy, CURLOPT_URL, url);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long) (timeout_usec / 1000));
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        if (curl_multi_add_handle(a->multi, c->easy) != CURLM_OK) {
                curl_easy_cleanup(TAKE_PTR(c->easy));
                call_free(c);
                return -ENOMEM;
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

        if (!a)
                return -ENOMEM;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(a->multi = curl_multi_init()) ||
            !(a->socket_path = strdup(socket_path))) {
                podman_api_free(a);
                return -ENOMEM;
        }
        a->event = sd_event_ref(event);
        curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
        curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
        curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
        *ret = a;
        return 0;
}

void podman_api_free(struct podman_api *a) {
        if (!a)
                return;
        if (a->multi)
                curl_multi_cleanup(a->multi);
        sd_event_source_disable_unref(a->timer);
        sd_event_unref(a->event);
        free(a->socket_path);
        free(a);
}
