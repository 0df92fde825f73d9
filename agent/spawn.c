/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "process.h"
#include "spawn.h"

struct spawn {
        pid_t pid;
        int out_fd;
        char output[SPAWN_OUTPUT_MAX + 1];
        size_t out_len;
        sd_event_source *child, *timer, *io;
        spawn_done_t done;
        void *userdata;
};

static void spawn_free(struct spawn *s) {
        sd_event_source_disable_unref(s->child);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->io);
        if (s->out_fd >= 0)
                close(s->out_fd);
        free(s);
}

/* Reads what is there without waiting: a daemon the child left behind may hold the pipe open. */
static void drain(struct spawn *s) {
        for (;;) {
                char buf[4096];
                ssize_t n = read(s->out_fd, buf, sizeof(buf));

                if (n <= 0)
                        return;
                if (s->out_len < SPAWN_OUTPUT_MAX) {
                        size_t k = (size_t) n < SPAWN_OUTPUT_MAX - s->out_len ? (size_t) n : SPAWN_OUTPUT_MAX - s->out_len;
                        memcpy(s->output + s->out_len, buf, k);
                        s->out_len += k;
                }
        }
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct spawn *s = userdata;

        drain(s);
        if (revents & (EPOLLHUP | EPOLLERR))
                sd_event_source_set_enabled(src, SD_EVENT_OFF);
        return 0;
}

static void finish(struct spawn *s, int status) {
        spawn_done_t done = s->done;
        void *userdata = s->userdata;

        drain(s);
        s->output[s->out_len] = '\0';
        /* Trailing newlines make poor one-line messages. */
        while (s->out_len > 0 && (s->output[s->out_len - 1] == '\n' || s->output[s->out_len - 1] == '\r'))
                s->output[--s->out_len] = '\0';
        done(status, s->output, userdata);
        spawn_free(s);
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata) {
        struct spawn *s = userdata;
        siginfo_t reap = {};

        /* Reap here: whatever sd-event does after the callback, a second waitid() only sees ECHILD. */
        waitid(P_PID, (id_t) s->pid, &reap, WEXITED | WNOHANG);
        s->pid = 0;
        finish(s, si->si_code == CLD_EXITED ? si->si_status : -EINTR);
        return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        struct spawn *s = userdata;

        log_debug("process %d timed out; killing it", (int) s->pid);
        kill(s->pid, SIGKILL);
        waitid(P_PID, (id_t) s->pid, &(siginfo_t) {}, WEXITED);
        s->pid = 0;
        finish(s, -ETIME);
        return 0;
}

int spawn_start(sd_event *event, char *const argv[], int in_fd, uint64_t timeout_usec, spawn_done_t done,
                void *userdata, struct spawn **ret) {
        struct spawn *s = calloc(1, sizeof(*s));
        int fds[2], r;

        if (!s)
                return -ENOMEM;
        s->out_fd = -1;
        s->done = done;
        s->userdata = userdata;
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
                free(s);
                return negative_errno();
        }
        s->out_fd = fds[0];
        r = process_spawn(argv, &(struct process_fds) { .in = in_fd, .out = fds[1], .err = fds[1] }, &s->pid);
        close(fds[1]);
        if (r >= 0)
                r = sd_event_add_child(event, &s->child, s->pid, WEXITED, on_child, s);
        if (r >= 0)
                r = sd_event_add_io(event, &s->io, s->out_fd, EPOLLIN, on_output, s);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &s->timer, CLOCK_MONOTONIC, timeout_usec, 1000, on_timeout, s);
        if (r < 0) {
                if (s->pid > 0) {
                        kill(s->pid, SIGKILL);
                        waitid(P_PID, (id_t) s->pid, &(siginfo_t) {}, WEXITED);
                }
                spawn_free(s);
                return r;
        }
        if (ret)
                *ret = s;
        return 0;
}

void spawn_cancel(struct spawn *s) {
        if (!s)
                return;
        if (s->pid > 0) {
                kill(s->pid, SIGKILL);
                waitid(P_PID, (id_t) s->pid, &(siginfo_t) {}, WEXITED);
        }
        spawn_free(s);
}
