/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bus.h"
#include "busopen.h"
#include "log.h"

#define RECONNECT_USEC (1000000ULL)

/* libdbus may hand out a read and a write watch on the same fd; epoll takes one registration per fd. */
struct io_group {
        struct bus *bus;
        int fd;
        sd_event_source *source;
        DBusWatch *watches[2];
        struct io_group *next;
};

struct bus {
        sd_event *event;
        char *spec;
        DBusConnection *conn;
        sd_event_source *dispatch;
        sd_event_source *reconnect;
        sd_event_source *lost;
        struct io_group *groups;
        bus_connected_t on_connected;
        bus_disconnected_t on_disconnected;
        void *userdata;
};

int bus_error_to_errno(const DBusError *e) {
        static const struct {
                const char *name;
                int err;
        } map[] = {
                { DBUS_ERROR_NO_MEMORY, -ENOMEM },          { DBUS_ERROR_ACCESS_DENIED, -EACCES },
                { DBUS_ERROR_NAME_HAS_NO_OWNER, -ESRCH },   { DBUS_ERROR_SERVICE_UNKNOWN, -ESRCH },
                { DBUS_ERROR_NO_REPLY, -ETIMEDOUT },        { DBUS_ERROR_TIMEOUT, -ETIMEDOUT },
                { DBUS_ERROR_UNKNOWN_METHOD, -EOPNOTSUPP }, { DBUS_ERROR_UNKNOWN_OBJECT, -ENOENT },
                { DBUS_ERROR_INVALID_ARGS, -EINVAL },       { DBUS_ERROR_DISCONNECTED, -ENOTCONN },
                { DBUS_ERROR_NO_SERVER, -ECONNREFUSED },     { DBUS_ERROR_FILE_NOT_FOUND, -ENOENT },
        };

        if (!dbus_error_is_set(e))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(e->name, map[i].name))
                        return map[i].err;
        return -EIO;
}

/* ---- watches ---- */

static struct io_group *group_find(struct bus *bus, int fd) {
        for (struct io_group *g = bus->groups; g; g = g->next)
                if (g->fd == fd)
                        return g;
        return NULL;
}

static uint32_t group_events(const struct io_group *g) {
        uint32_t ev = 0;

        for (size_t i = 0; i < 2; i++) {
                unsigned flags;

                if (!g->watches[i] || !dbus_watch_get_enabled(g->watches[i]))
                        continue;
                flags = dbus_watch_get_flags(g->watches[i]);
                if (flags & DBUS_WATCH_READABLE)
                        ev |= EPOLLIN;
                if (flags & DBUS_WATCH_WRITABLE)
                        ev |= EPOLLOUT;
        }
        return ev;
}

static int group_update(struct io_group *g) {
        uint32_t ev = group_events(g);
        int r;

        if (ev == 0)
                return sd_event_source_set_enabled(g->source, SD_EVENT_OFF);
        r = sd_event_source_set_io_events(g->source, ev);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(g->source, SD_EVENT_ON);
}

static void bus_schedule_dispatch(struct bus *bus) {
        if (bus->dispatch)
                sd_event_source_set_enabled(bus->dispatch, SD_EVENT_ONESHOT);
}

static unsigned watch_flags(DBusWatch *w, uint32_t revents) {
        unsigned want = dbus_watch_get_flags(w), flags = 0;

        if ((revents & EPOLLIN) && (want & DBUS_WATCH_READABLE))
                flags |= DBUS_WATCH_READABLE;
        if ((revents & EPOLLOUT) && (want & DBUS_WATCH_WRITABLE))
                flags |= DBUS_WATCH_WRITABLE;
        if (revents & EPOLLERR)
                flags |= DBUS_WATCH_ERROR;
        if (revents & EPOLLHUP)
                flags |= DBUS_WATCH_HANGUP;
        return flags;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct io_group *g = userdata;
        struct bus *bus = g->bus;

        for (size_t i = 0; i < 2; i++) {
                unsigned flags;

                /* Handling a watch may remove the group: look it up again each time. */
                g = group_find(bus, fd);
                if (!g || !g->watches[i] || !dbus_watch_get_enabled(g->watches[i]))
                        continue;
                flags = watch_flags(g->watches[i], revents);
                if (flags)
                        dbus_watch_handle(g->watches[i], flags);
        }
        bus_schedule_dispatch(bus);
        return 0;
}

static dbus_bool_t add_watch(DBusWatch *w, void *data) {
        struct bus *bus = data;
        int fd = dbus_watch_get_unix_fd(w);
        struct io_group *g = group_find(bus, fd);

        if (!g) {
                g = calloc(1, sizeof(*g));
                if (!g)
                        return FALSE;
                g->bus = bus;
                g->fd = fd;
                if (sd_event_add_io(bus->event, &g->source, fd, 0, on_io, g) < 0) {
                        free(g);
                        return FALSE;
                }
                g->next = bus->groups;
                bus->groups = g;
        }
        g->watches[g->watches[0] ? 1 : 0] = w;
        return group_update(g) >= 0;
}

static void remove_watch(DBusWatch *w, void *data) {
        struct bus *bus = data;
        struct io_group **p, *g;

        for (p = &bus->groups; (g = *p); p = &g->next) {
                for (size_t i = 0; i < 2; i++)
                        if (g->watches[i] == w)
                                g->watches[i] = NULL;
                if (g->watches[0] || g->watches[1]) {
                        group_update(g);
                        continue;
                }
                *p = g->next;
                sd_event_source_disable_unref(g->source);
                free(g);
                return;
        }
}

static void toggle_watch(DBusWatch *w, void *data) {
        struct io_group *g = group_find(data, dbus_watch_get_unix_fd(w));

        if (g)
                group_update(g);
}

/* ---- timeouts ---- */

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        DBusTimeout *t = userdata;

        /* Re-armed first: handling may remove the timeout, and then its source goes with it. */
        sd_event_source_set_time_relative(s, (uint64_t) dbus_timeout_get_interval(t) * 1000);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        dbus_timeout_handle(t);
        return 0;
}

static dbus_bool_t add_timeout(DBusTimeout *t, void *data) {
        struct bus *bus = data;
        sd_event_source *s;

        if (sd_event_add_time_relative(bus->event, &s, CLOCK_MONOTONIC, (uint64_t) dbus_timeout_get_interval(t) * 1000,
                                       1000, on_timeout, t) < 0)
                return FALSE;
        sd_event_source_set_enabled(s, dbus_timeout_get_enabled(t) ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        dbus_timeout_set_data(t, s, NULL);
        return TRUE;
}

static void remove_timeout(DBusTimeout *t, void *data) {
        sd_event_source_disable_unref(dbus_timeout_get_data(t));
        dbus_timeout_set_data(t, NULL, NULL);
}

static void toggle_timeout(DBusTimeout *t, void *data) {
        sd_event_source *s = dbus_timeout_get_data(t);

        if (!s)
                return;
        if (dbus_timeout_get_enabled(t)) {
                sd_event_source_set_time_relative(s, (uint64_t) dbus_timeout_get_interval(t) * 1000);
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        } else
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* ---- dispatch ---- */

static int on_dispatch(sd_event_source *s, void *userdata) {
        struct bus *bus = userdata;
        DBusConnection *conn = bus->conn;

        if (!conn)
                return 0;
        /* One message per loop iteration keeps timers and children served during bursts. */
        dbus_connection_ref(conn);
        if (dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS && bus->conn == conn)
                bus_schedule_dispatch(bus);
        dbus_connection_unref(conn);
        return 0;
}

static void on_dispatch_status(DBusConnection *conn, DBusDispatchStatus status, void *data) {
        /* Never dispatch from here (libdbus forbids it): arm the defer source. */
        if (status == DBUS_DISPATCH_DATA_REMAINS)
                bus_schedule_dispatch(data);
}

/* ---- connecting ---- */

static void bus_drop(struct bus *bus) {
        DBusConnection *conn = TAKE_PTR(bus->conn);

        if (!conn)
                return;
        dbus_connection_set_watch_functions(conn, NULL, NULL, NULL, NULL, NULL);
        dbus_connection_set_timeout_functions(conn, NULL, NULL, NULL, NULL, NULL);
        dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
        bus->dispatch = sd_event_source_disable_unref(bus->dispatch);
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata);

/*
 * Arms the one-second reconnect timer. Without it the agent would stay
 * disconnected for good while looking alive, so when the timer cannot be
 * armed the event loop ends with an error and systemd restarts the agent.
 */
static void bus_schedule_reconnect(struct bus *bus) {
        int r = sd_event_add_time_relative(bus->event, &bus->reconnect, CLOCK_MONOTONIC, RECONNECT_USEC, 0,
                                           on_reconnect, bus);

        if (r < 0) {
                log_error_errno(r, "bus %s: cannot arm the reconnect timer, exiting: %m", bus->spec);
                (void) sd_event_exit(bus->event, r);
        }
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        struct bus *bus = userdata;
        int r;

        bus->reconnect = sd_event_source_disable_unref(bus->reconnect);
        r = bus_start(bus);
        if (r < 0) {
                log_debug_errno(r, "bus %s: still unreachable: %m", bus->spec);
                bus_schedule_reconnect(bus);
        } else
                log_info("bus %s: connected again", bus->spec);
        return 0;
}

static int on_lost(sd_event_source *s, void *userdata) {
        struct bus *bus = userdata;

        bus->lost = sd_event_source_disable_unref(bus->lost);
        /* Users detach while the connection object still exists. */
        if (bus->on_disconnected)
                bus->on_disconnected(bus, bus->userdata);
        bus_drop(bus);
        log_warning("bus %s: disconnected; reconnecting every second", bus->spec);
        bus_schedule_reconnect(bus);
        return 0;
}

static DBusHandlerResult on_local(DBusConnection *conn, DBusMessage *m, void *data) {
        struct bus *bus = data;

        if (!dbus_message_is_signal(m, DBUS_INTERFACE_LOCAL, "Disconnected"))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        /* Tear down outside the dispatch of this very connection. */
        if (!bus->lost && sd_event_add_defer(bus->event, &bus->lost, on_lost, bus) < 0) {
                log_error("bus %s: disconnected and out of memory to handle it, exiting", bus->spec);
                (void) sd_event_exit(bus->event, -ENOMEM);
        }
        return DBUS_HANDLER_RESULT_HANDLED;
}

static int bus_integrate(struct bus *bus) {
        if (sd_event_add_defer(bus->event, &bus->dispatch, on_dispatch, bus) < 0)
                return -ENOMEM;
        sd_event_source_set_enabled(bus->dispatch, SD_EVENT_OFF);
        if (!dbus_connection_set_watch_functions(bus->conn, add_watch, remove_watch, toggle_watch, bus, NULL) ||
            !dbus_connection_set_timeout_functions(bus->conn, add_timeout, remove_timeout, toggle_timeout, bus, NULL) ||
            !dbus_connection_add_filter(bus->conn, on_local, bus, NULL))
                return -ENOMEM;
        dbus_connection_set_dispatch_status_function(bus->conn, on_dispatch_status, bus, NULL);
        bus_schedule_dispatch(bus);
        return 0;
}

int bus_start(struct bus *bus) {
        DBusError e;
        int r;

        dbus_error_init(&e);
        bus->conn = bus_open_spec(bus->spec, &e);
        if (!bus->conn) {
                r = bus_error_to_errno(&e);
                log_debug("bus %s: %s", bus->spec, e.message);
                dbus_error_free(&e);
                return r < 0 ? r : -ECONNREFUSED;
        }
        dbus_connection_set_exit_on_disconnect(bus->conn, FALSE);
        r = bus_integrate(bus);
        if (r >= 0 && bus->on_connected) {
                r = bus->on_connected(bus, bus->conn, bus->userdata);
                /* What on_connected attached to the connection is detached while the connection still exists. */
                if (r < 0 && bus->on_disconnected)
                        bus->on_disconnected(bus, bus->userdata);
        }
        if (r < 0)
                bus_drop(bus);
        return r;
}

int bus_new(sd_event *event, const char *spec, bus_connected_t on_connected, bus_disconnected_t on_disconnected,
            void *userdata, struct bus **ret) {
        struct bus *bus = calloc(1, sizeof(*bus));

        if (!bus)
                return -ENOMEM;
        bus->spec = strdup(spec);
        if (!bus->spec) {
                free(bus);
                return -ENOMEM;
        }
        bus->event = sd_event_ref(event);
        bus->on_connected = on_connected;
        bus->on_disconnected = on_disconnected;
        bus->userdata = userdata;
        *ret = bus;
        return 0;
}

DBusConnection *bus_connection(const struct bus *bus) {
        return bus->conn;
}

sd_event *bus_event(const struct bus *bus) {
        return bus->event;
}

void bus_free(struct bus *bus) {
        if (!bus)
                return;
        bus_drop(bus);
        sd_event_source_disable_unref(bus->reconnect);
        sd_event_source_disable_unref(bus->lost);
        sd_event_unref(bus->event);
        free(bus->spec);
        free(bus);
}
