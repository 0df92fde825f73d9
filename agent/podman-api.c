/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "podman-api.h"
#include "strv.h"
#include "yamltree.h"

#define API "/v4.0.0/libpod"
#define RESPONSE_MAX (32u << 20) /* a list of a thousand containers is ~2 MiB; images' labels add to it */
#define OUTPUT_MAX 65536        /* of an exec, as much as the agent keeps of a child's output */
#define MESSAGE_MAX 1024

struct podman_api {
        sd_event *event;
        char *socket_path;
};

struct podman_op;
/* What an answer means: 0 another request was sent, 1 done (op->output), -errno failed (op->output says why). */
typedef int (*step_t)(struct podman_op *op, int status, char *body, size_t len);

/* One operation: a sequence of requests, each on its own connection, under one deadline. */
struct podman_op {
        struct podman_api *api;
        char *name; /* the container, escaped for a path */
        sd_event_source *timer, *io, *again;
        int fd;
        char *request;
        size_t request_len, written;
        char *response;
        size_t response_len, response_alloc;
        step_t step;
        bool answered; /* podman answered a request of this operation: no CLI fallback from here on */
        int exit_status;
        char *output;
        char *exec_id;        /* exec: the session */
        struct tar *tar;      /* copy: the caller's archive (its owners mapped in place) */
        char *passwd, *group; /* copy: the container's, when names are mapped */
        podman_api_done_t done;
        void *userdata;
};

static void exchange_close(struct podman_op *op) {
        op->io = sd_event_source_disable_unref(op->io);
        if (op->fd >= 0)
                close(op->fd);
        op->fd = -1;
        free(op->request);
        op->request = NULL;
        free(op->response);
        op->response = NULL;
        op->request_len = op->written = op->response_len = op->response_alloc = 0;
}

static void op_free(struct podman_op *op) {
        exchange_close(op);
        sd_event_source_disable_unref(op->timer);
        sd_event_source_disable_unref(op->again);
        free(op->name);
        free(op->output);
        free(op->exec_id);
        free(op->passwd);
        free(op->group);
        free(op);
}

void podman_op_cancel(struct podman_op *op) {
        if (op)
                op_free(op);
}

/* Ends the operation (freed first, so done may start another). */
static void op_end(struct podman_op *op, int r) {
        podman_api_done_t done = op->done;
        void *userdata = op->userdata;
        _cleanup_free_ char *output = TAKE_PTR(op->output);

        op_free(op);
        done(r, output ? output : "", userdata);
}

static int set_output(struct podman_op *op, const char *fmt, ...) _printf_(2, 3);
static int set_output(struct podman_op *op, const char *fmt, ...) {
        va_list ap;
        int k;

        free(op->output);
        va_start(ap, fmt);
        k = vasprintf(&op->output, fmt, ap);
        va_end(ap);
        if (k < 0)
                op->output = NULL;
        return k < 0 ? -ENOMEM : 0;
}

/* podman's error body is {"cause":"…","message":"…","response":N}: the message is what a person needs. */
static int answer_error(struct podman_op *op, int status, const char *body, size_t len) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        const char *m = NULL;

        if (ydoc_parse_json("podman's answer", body, len, &doc) >= 0)
                m = ynode_text(ynode_get(doc->root, "message"));
        set_output(op, "%s", m ? m : len > 0 ? body : "podman gave no reason");
        return status == 404 ? -ENOENT : -EIO;
}

/* ---- one exchange: write the request, read the answer until podman closes ---- */

static void on_answer(struct podman_op *op) {
        _cleanup_free_ char *body = malloc(op->response_len + 1);
        size_t len = 0;
        int status = 0, r;

        if (!body) {
                op_end(op, -ENOMEM);
                return;
        }
        if (op->response)
                op->response[op->response_len] = '\0';
        r = http_parse_response(op->response ? op->response : "", op->response_len, &status, body, op->response_len + 1,
                                &len);
        exchange_close(op);
        op->answered = true;
        if (r < 0) {
                set_output(op, "podman API on %s: not an HTTP answer", op->api->socket_path);
                op_end(op, -EIO);
                return;
        }
        r = op->step(op, status, body, len);
        if (r != 0)
                op_end(op, r > 0 ? op->exit_status : r);
}

static int exchange_write(struct podman_op *op) {
        ssize_t n = send(op->fd, op->request + op->written, op->request_len - op->written, MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        op->written += (size_t) n;
        if (op->written == op->request_len)
                return sd_event_source_set_io_events(op->io, EPOLLIN);
        return 0;
}

/*
 * 1: podman closed the connection, the answer is whole. An answer past
 * RESPONSE_MAX ends the operation at once (-EFBIG): reading on would cost a
 * core for as long as a flood lasts.
 */
static int exchange_read(struct podman_op *op) {
        ssize_t n;

        if (op->response_len >= RESPONSE_MAX)
                return -EFBIG;
        /* one byte kept free: on_answer ends the answer with a NUL for the parser's sscanf */
        if (op->response_alloc - op->response_len < 4096 + 1) {
                size_t want = op->response_alloc ? op->response_alloc * 2 : 16384;
                char *p = realloc(op->response, want);

                if (!p)
                        return -ENOMEM;
                op->response = p;
                op->response_alloc = want;
        }
        n = recv(op->fd, op->response + op->response_len, op->response_alloc - op->response_len - 1, 0);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        if (n == 0)
                return 1;
        op->response_len += (size_t) n;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct podman_op *op = userdata;
        int r = 0;

        if (op->written < op->request_len && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                r = exchange_write(op);
        else if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = exchange_read(op);
        if (r > 0)
                on_answer(op);
        else if (r == -EFBIG) {
                set_output(op, "podman's answer on %s passed %u MiB: not read further", op->api->socket_path,
                           RESPONSE_MAX >> 20);
                op_end(op, r);
        } else if (r < 0) {
                set_output(op, "podman API on %s: %s", op->api->socket_path, strerror(-r));
                op_end(op, -EIO);
        }
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct podman_op *op = userdata;

        set_output(op, "podman API on %s: no answer within the step's timeout", op->api->socket_path);
        op_end(op, -ETIME);
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
 * Nothing answers: done(-EHOSTUNREACH) from the loop, never inside the
 * caller's own call. Midway (an exec ran, its exit not read yet) it is a
 * failure: the CLI would run the command a second time.
 */
static int on_unreachable(sd_event_source *s, void *userdata) {
        struct podman_op *op = userdata;

        if (op->answered) {
                set_output(op, "podman's API on %s stopped answering midway", op->api->socket_path);
                op_end(op, -EIO);
                return 0;
        }
        set_output(op, "podman's API does not answer on %s", op->api->socket_path);
        op_end(op, -EHOSTUNREACH);
        return 0;
}

/* Sends METHOD API PATH with an optional body; the answer goes to op->step. */
static int op_send(struct podman_op *op, const char *method, const char *path, const char *content_type,
                   const void *body, size_t body_len) {
        _cleanup_free_ char *full = NULL, *head = NULL;
        int r;

        if (asprintf(&full, API "%s", path) < 0)
                return -ENOMEM;
        r = http_format_request(method, full, content_type, body_len, &head);
        if (r < 0)
                return r;
        op->request_len = strlen(head) + body_len;
        op->request = malloc(op->request_len);
        if (!op->request)
                return -ENOMEM;
        memcpy(op->request, head, strlen(head));
        if (body_len > 0)
                memcpy(op->request + strlen(head), body, body_len);
        r = api_connect(op->api->socket_path, &op->fd);
        if (r == -EHOSTUNREACH)
                return sd_event_add_defer(op->api->event, &op->io, on_unreachable, op);
        if (r < 0)
                return r;
        return sd_event_add_io(op->api->event, &op->io, op->fd, EPOLLOUT, on_io, op);
}

static int op_new(struct podman_api *a, const char *name, uint64_t timeout_usec, step_t step, podman_api_done_t done,
                  void *userdata, struct podman_op **ret) {
        struct podman_op *op = calloc(1, sizeof(*op));
        int r;

        if (!op)
                return -ENOMEM;
        *op = (struct podman_op) { .api = a, .fd = -1, .step = step, .done = done, .userdata = userdata };
        r = name ? http_escape(name, &op->name) : 0;
        if (r >= 0)
                r = sd_event_add_time_relative(a->event, &op->timer, CLOCK_MONOTONIC, timeout_usec, 1000, on_timeout, op);
        if (r < 0) {
                op_free(op);
                return r;
        }
        *ret = op;
        return 0;
}

/* Starts op with its first request, or frees it. */
static int op_start(struct podman_op *op, const char *method, const char *path, const char *content_type,
                    const void *body, size_t body_len, struct podman_op **ret) {
        int r = op_send(op, method, path, content_type, body, body_len);

        if (r < 0) {
                op_free(op);
                return r;
        }
        *ret = op;
        return 0;
}

/* ---- restart and kill: one request, no answer but the status ---- */

static int step_status(struct podman_op *op, int status, char *body, size_t len) {
        return status / 100 == 2 ? 1 : answer_error(op, status, body, len);
}

/* METHOD …/containers/NAME/WHAT, the first request of an operation whose answers go to step. */
static int container_call(struct podman_api *a, const char *name, const char *method, const char *what,
                          const char *content_type, const void *body, size_t body_len, step_t step,
                          uint64_t timeout_usec, podman_api_done_t done, void *userdata, struct podman_op **ret) {
        _cleanup_free_ char *path = NULL;
        struct podman_op *op;
        int r = op_new(a, name, timeout_usec, step, done, userdata, &op);

        if (r < 0)
                return r;
        if (asprintf(&path, "/containers/%s/%s", op->name, what) < 0) {
                op_free(op);
                return -ENOMEM;
        }
        return op_start(op, method, path, content_type, body, body_len, ret);
}

int podman_api_restart(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                       void *userdata, struct podman_op **ret) {
        return container_call(a, name, "POST", "restart", NULL, NULL, 0, step_status, timeout_usec, done, userdata, ret);
}

int podman_api_kill(struct podman_api *a, const char *name, int sig, uint64_t timeout_usec, podman_api_done_t done,
                    void *userdata, struct podman_op **ret) {
        char what[32];

        snprintf(what, sizeof(what), "kill?signal=%d", sig);
        return container_call(a, name, "POST", what, NULL, NULL, 0, step_status, timeout_usec, done, userdata, ret);
}

/* ---- exec: create a session, start it attached, read its exit code ---- */

/*
 * Without a terminal, start answers with the process's output in frames:
 * one byte for the stream (1 stdout, 2 stderr), three zero bytes, the length
 * (32 bits, big-endian), then that many bytes. Both streams, in order.
 */
static int demux(struct podman_op *op, const char *body, size_t len) {
        size_t used = 0;

        free(op->output);
        op->output = malloc(OUTPUT_MAX + 1);
        if (!op->output)
                return -ENOMEM;
        for (size_t pos = 0; pos + 8 <= len;) {
                const unsigned char *h = (const unsigned char *) body + pos;
                size_t n = (size_t) h[4] << 24 | (size_t) h[5] << 16 | (size_t) h[6] << 8 | h[7], k;

                pos += 8;
                n = n < len - pos ? n : len - pos;
                k = n < OUTPUT_MAX - used ? n : OUTPUT_MAX - used;
                memcpy(op->output + used, body + pos, k);
                used += k;
                pos += n;
        }
        op->output[used] = '\0';
        return 0;
}

static int exec_inspect(struct podman_op *op) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/exec/%s/json", op->exec_id) < 0)
                return -ENOMEM;
        return op_send(op, "GET", path, NULL, NULL, 0);
}

static int on_inspect_again(sd_event_source *s, uint64_t usec, void *userdata) {
        struct podman_op *op = userdata;
        int r;

        op->again = sd_event_source_disable_unref(op->again);
        r = exec_inspect(op);
        if (r < 0)
                op_end(op, r);
        return 0;
}

static int step_exec_inspect(struct podman_op *op, int status, char *body, size_t len) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        const char *code, *running;

        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        if (ydoc_parse_json("podman's exec inspect", body, len, &doc) < 0 ||
            !(code = ynode_text(ynode_get(doc->root, "ExitCode"))))
                return set_output(op, "podman's API answered exec inspect without an exit code") < 0 ? -ENOMEM : -EIO;
        running = ynode_text(ynode_get(doc->root, "Running"));
        /* The stream ends when the process does; its exit may be recorded a moment later. */
        if (running && streq(running, "true"))
                return sd_event_add_time_relative(op->api->event, &op->again, CLOCK_MONOTONIC, 50 * 1000, 1000,
                                                  on_inspect_again, op);
        op->exit_status = atoi(code);
        return 1;
}

static int step_exec_started(struct podman_op *op, int status, char *body, size_t len) {
        int r;

        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        r = demux(op, body, len);
        if (r < 0)
                return r;
        op->step = step_exec_inspect;
        return exec_inspect(op);
}

static int step_exec_created(struct podman_op *op, int status, char *body, size_t len) {
        static const char start[] = "{\"Detach\":false,\"Tty\":false}";
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        _cleanup_free_ char *path = NULL, *escaped = NULL;
        const char *id;
        int r;

        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        if (ydoc_parse_json("podman's exec create", body, len, &doc) < 0 || !(id = ynode_text(ynode_get(doc->root, "Id"))))
                return set_output(op, "podman's API answered exec create without a session id") < 0 ? -ENOMEM : -EIO;
        r = http_escape(id, &escaped);
        if (r < 0)
                return r;
        op->exec_id = TAKE_PTR(escaped);
        op->step = step_exec_started;
        if (asprintf(&path, "/exec/%s/start", op->exec_id) < 0)
                return -ENOMEM;
        return op_send(op, "POST", path, "application/json", start, sizeof(start) - 1);
}

/* {"AttachStdout":true,"AttachStderr":true,"Cmd":[…]} */
static int exec_create_body(char *const *cmd, char **ret, size_t *ret_len) {
        FILE *f = open_memstream(ret, ret_len);
        int first = 1;

        if (!f)
                return -ENOMEM;
        fputs("{\"AttachStdout\":true,\"AttachStderr\":true,\"Cmd\":[", f);
        STRV_FOREACH(a, cmd) {
                fputs(first ? "" : ",", f);
                json_string_exact(f, *a); /* the argument as the manifest gives it, newlines and all */
                first = 0;
        }
        fputs("]}", f);
        return fclose(f) == 0 ? 0 : -ENOMEM;
}

int podman_api_exec(struct podman_api *a, const char *name, char *const *cmd, uint64_t timeout_usec,
                    podman_api_done_t done, void *userdata, struct podman_op **ret) {
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = exec_create_body(cmd, &body, &len);

        if (r < 0)
                return r;
        return container_call(a, name, "POST", "exec", "application/json", body, len, step_exec_created, timeout_usec,
                              done, userdata, ret);
}

/* ---- copy: the archive at /, owners mapped by the container's names ---- */

static int send_archive(struct podman_op *op) {
        _cleanup_free_ char *path = NULL;

        op->step = step_status;
        /*
         * copyUIDGID=false: the archive's owners, not the container user's (podman's default for libpod).
         * noOverwriteDirNonDir: a directory where a file goes is an error, as for tar, never removed.
         */
        if (asprintf(&path, "/containers/%s/archive?path=%%2F&copyUIDGID=false&noOverwriteDirNonDir=true", op->name) < 0)
                return -ENOMEM;
        return op_send(op, "PUT", path, "application/x-tar", op->tar->data, op->tar->len);
}

/* GET …/archive?path=ESCAPED_PATH: one of the container's files, as a tar. */
static int fetch_file(struct podman_op *op, const char *escaped_path) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/containers/%s/archive?path=%s", op->name, escaped_path) < 0)
                return -ENOMEM;
        return op_send(op, "GET", path, NULL, NULL, 0);
}

/* A file of the container's, from GET …/archive?path=P: its text, "" when it has none. */
static int archived_text(struct podman_op *op, int status, const char *body, size_t len, char **ret) {
        const char *content;
        size_t n;

        if (status == 404) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        if (tar_first_file(body, len, &content, &n) < 0)
                return set_output(op, "podman's API answered a file request with no file") < 0 ? -ENOMEM : -EIO;
        *ret = strndup(content, n);
        return *ret ? 0 : -ENOMEM;
}

static int step_group(struct podman_op *op, int status, char *body, size_t len) {
        int r = archived_text(op, status, body, len, &op->group);

        if (r < 0)
                return r;
        r = tar_map_owners(op->tar, op->passwd, op->group);
        if (r == -ERANGE)
                return set_output(op, "the container's /etc/passwd or /etc/group gives an owner of the copy an id "
                                      "a tar header cannot hold") < 0 ? -ENOMEM : r;
        return r < 0 ? r : send_archive(op);
}

static int step_passwd(struct podman_op *op, int status, char *body, size_t len) {
        int r = archived_text(op, status, body, len, &op->passwd);

        if (r < 0)
                return r;
        op->step = step_group;
        return fetch_file(op, "%2Fetc%2Fgroup");
}

int podman_api_copy(struct podman_api *a, const char *name, struct tar *t, uint64_t timeout_usec,
                    podman_api_done_t done, void *userdata, struct podman_op **ret) {
        struct podman_op *op;
        int r = op_new(a, name, timeout_usec, step_passwd, done, userdata, &op);

        if (r < 0)
                return r;
        op->tar = t;
        /* owner names need the container's passwd and group first */
        r = tar_has_names(t) ? fetch_file(op, "%2Fetc%2Fpasswd") : send_archive(op);
        if (r < 0) {
                op_free(op);
                return r;
        }
        *ret = op;
        return 0;
}

/* ---- list and inspect: JSON answers turned into lines ---- */

static int lines_from(struct podman_op *op, const char *what, char *body, size_t len, struct ydoc **ret) {
        int r = ydoc_parse_json(what, body, len, ret);

        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_output(op, "podman's API answered %s with something that is not JSON", what) < 0 ? -ENOMEM : -EIO;
        return 0;
}

static int step_list(struct podman_op *op, int status, char *body, size_t len) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        int r;

        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        r = lines_from(op, "the container list", body, len, &doc);
        for (size_t i = 0; r >= 0 && doc->root->kind == YNODE_SEQUENCE && i < doc->root->n_items; i++) {
                const struct ynode *v = ynode_get(doc->root->items[i], "Names");

                for (size_t k = 0; r >= 0 && v && v->kind == YNODE_SEQUENCE && k < v->n_items; k++)
                        if (ynode_text(v->items[k]))
                                r = strv_push(&names, v->items[k]->value);
        }
        if (r < 0)
                return r;
        free(op->output);
        op->output = names ? strv_join(names, "\n") : strdup("");
        return op->output ? 1 : -ENOMEM;
}

int podman_api_list(struct podman_api *a, uint64_t timeout_usec, podman_api_done_t done, void *userdata,
                    struct podman_op **ret) {
        struct podman_op *op;
        int r = op_new(a, NULL, timeout_usec, step_list, done, userdata, &op);

        if (r < 0)
                return r;
        /* Without all=true: the running ones, as `podman ps` lists them. */
        return op_start(op, "GET", "/containers/json", NULL, NULL, 0, ret);
}

static int step_mounts(struct podman_op *op, int status, char *body, size_t len) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        const struct ynode *mounts;
        FILE *f;
        size_t n = 0;
        int r;

        if (status / 100 != 2)
                return answer_error(op, status, body, len);
        r = lines_from(op, "inspect", body, len, &doc);
        if (r < 0)
                return r;
        mounts = ynode_get(doc->root, "Mounts");
        free(op->output);
        op->output = NULL;
        f = open_memstream(&op->output, &n);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; mounts && mounts->kind == YNODE_SEQUENCE && i < mounts->n_items; i++) {
                const char *src = ynode_text(ynode_get(mounts->items[i], "Source")),
                           *dst = ynode_text(ynode_get(mounts->items[i], "Destination"));

                if (src && dst)
                        fprintf(f, "%s\t%s\n", src, dst);
        }
        return fclose(f) == 0 ? 1 : -ENOMEM;
}

int podman_api_mounts(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                      void *userdata, struct podman_op **ret) {
        return container_call(a, name, "GET", "json", NULL, NULL, 0, step_mounts, timeout_usec, done, userdata, ret);
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
