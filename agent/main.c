/* SPDX-License-Identifier: MIT */
/*
 * ctrcert-agent: certmonger saves a certificate → the containers the
 * manifest binds to it, and only those, are restarted, signalled or exec'd.
 * This file tells the story: configuration, manifest, one event loop, the
 * bus (certmonger's signals in, our API out), the engine in between.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api.h"
#include "bindings.h"
#include "bus.h"
#include "certmonger.h"
#include "config.h"
#include "crlpub.h"
#include "crypto.h"
#include "engine.h"
#include "event.h"
#include "fileio.h"
#include "log.h"
#include "report.h"
#include "statelock.h"
#include "strv.h"

struct agent {
        const char *config_path;
        const char *bus_spec;
        struct config *cfg;
        sd_event *event;
        struct bus *bus;
        struct runtime *runtime; /* podman's API, the bus for units, the CLIs: what jobs act through */
        struct engine *engine;
        struct certmonger *cm;
        struct api *api;
        struct crlpub *crlpub;
        int lock_fd; /* STATE_DIR/agent/lock, held while we run */
};

/* ---- manifest ---- */

/*
 * The manifest tells a root process what to run in containers and which
 * units to restart: it is read only when root alone could have written it
 * (manifest_files_trusted, as the helper does), and exactly the files checked.
 */
static int check_manifest(const char *path, char *const *files, char *errbuf, size_t size) {
        _cleanup_free_ char *bad = NULL, *why = NULL;
        int r = manifest_files_trusted(path, files, &bad, &why);

        if (r == -EPERM) {
                log_error("manifest %s is not safe to trust: %s", bad, why);
                if (errbuf)
                        snprintf(errbuf, size, "%s is not safe to trust: %s", bad, why);
        } else if (r < 0)
                log_error_errno(r, "manifest %s cannot be checked: %m", bad ? bad : path);
        return r;
}

/* One write the agent will make, into a directory its sandbox left read-only: said now, not at the renewal. */
static void warn_read_only(const char *what, const char *path) {
        if (path && path[0] && path_dir_read_only(path) == -EROFS)
                log_error("%s %s: its directory is read-only to the agent (the unit's ProtectSystem=strict); give "
                          "ctrcert-agent.service ReadWritePaths= for it in a drop-in (ctrcert-agent(8), HARDENING), "
                          "or this write fails",
                          what, path);
}

static void check_writable(const struct config *cfg, const struct manifest *m) {
        for (size_t i = 0; m && i < m->n_certs; i++)
                if (m->certs[i].bundle)
                        warn_read_only("bundle", m->certs[i].bundle->path);
        if (!cfg)
                return;
        warn_read_only("agent.metrics", cfg->agent.metrics);
        STRV_FOREACH(p, cfg->agent.crl_publish)
                warn_read_only("agent.crl_publish", *p);
}

static int load_bindings(const struct config *cfg, struct bindings **ret, char *errbuf, size_t size) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(strv_freep) char **files = NULL;
        struct manifest *m = NULL;
        int r;

        r = manifest_files(cfg->manifest, &files, &d);
        if (r >= 0 && check_manifest(cfg->manifest, files, errbuf, size) < 0)
                return -EPERM;
        if (r >= 0)
                r = files ? manifest_load_files_flags(files, 0, &m, &d) : manifest_load(cfg->manifest, &m, &d);
        for (size_t i = 0; i < d.n; i++) {
                _cleanup_free_ char *s = NULL;

                if (diag_format(&d.items[i], &s) < 0)
                        continue;
                if (d.items[i].severity == DIAG_ERROR)
                        log_error("%s", s);
                else
                        log_warning("%s", s);
                if (errbuf && d.items[i].severity == DIAG_ERROR && !errbuf[0])
                        snprintf(errbuf, size, "%s%s", s, d.n_errors > 1 ? " (and more; see ctrcertctl manifest check)" : "");
        }
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        check_writable(NULL, m);
        return bindings_new(m, ret);
}

static int on_reload_request(char *errbuf, size_t size, void *userdata) {
        struct agent *a = userdata;
        struct bindings *b;
        char count[24];
        int r;

        r = load_bindings(a->cfg, &b, errbuf, size);
        if (r < 0) {
                (void) event_send("ctrcert-agent", 3, "manifest-refused",
                                  "manifest not reloaded, the previous one stays in force",
                                  (const struct event_field[]) { { "CTRCERT_MANIFEST", a->cfg->manifest },
                                                                 { "CTRCERT_REASON", errbuf ? errbuf : "" } },
                                  2);
                return r;
        }
        engine_replace_bindings(a->engine, b);
        snprintf(count, sizeof(count), "%zu", bindings_count(b));
        (void) event_send("ctrcert-agent", 5, "manifest-reloaded", "manifest reloaded",
                          (const struct event_field[]) { { "CTRCERT_MANIFEST", a->cfg->manifest },
                                                         { "CTRCERT_BINDINGS", count } },
                          2);
        log_info("manifest reloaded: %zu bindings", bindings_count(b));
        return 0;
}

/* ---- events in, reports out ---- */

static void on_saved(const char *cert_file, const char *key_file, const char *nickname, void *userdata) {
        struct agent *a = userdata;
        unsigned n;

        if (engine_notify(a->engine, cert_file, &n) < 0)
                log_error("%s (request %s): cannot schedule its containers", cert_file, nickname ? nickname : "?");
        else if (!bindings_lookup(engine_bindings(a->engine), cert_file))
                /* A typo in getcert -f, or a manifest that forgot it: this renewal reaches no container. */
                log_warning("certmonger saved %s (request %s), which no binding of the manifest names: no container "
                            "gets it (ctrcertctl audit lists such requests)",
                            cert_file, nickname ? nickname : "?");
}

static void on_renewing(const char *cert_file, bool renewing, void *userdata) {
        struct agent *a = userdata;

        engine_set_renewing(a->engine, cert_file, renewing);
}

static void on_request_state(const char *cert_file, const char *status, bool stuck, void *userdata) {
        struct agent *a = userdata;

        engine_set_request_state(a->engine, cert_file, status, stuck);
}

static const struct certmonger_hooks certmonger_hooks = {
        .saved = on_saved,
        .renewing = on_renewing,
        .state = on_request_state,
};

static void on_job_finished(const struct job_report *r, void *userdata) {
        struct agent *a = userdata;

        report_job(r);
        api_emit_job_finished(a->api, r);
}

/* ---- the bus ---- */

static int request_name(DBusConnection *conn) {
        DBusError e;
        int r;

        dbus_error_init(&e);
        r = dbus_bus_request_name(conn, API_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e);
        if (dbus_error_is_set(&e)) {
                log_error("cannot own %s: %s", API_NAME, e.message);
                r = bus_error_to_errno(&e);
                dbus_error_free(&e);
                return r;
        }
        if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER && r != DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
                log_error("%s is owned by another process: is another ctrcert-agent running?", API_NAME);
                return -EEXIST;
        }
        return 0;
}

static int on_connected(struct bus *bus, DBusConnection *conn, void *userdata) {
        struct agent *a = userdata;
        int r;

        r = certmonger_attach(conn, &certmonger_hooks, a, &a->cm);
        if (r < 0)
                return log_error_errno(r, "cannot subscribe to certmonger's signals: %m");
        r = api_attach(conn, a->engine, on_reload_request, a, &a->api);
        if (r < 0)
                return log_error_errno(r, "cannot register %s: %m", API_PATH);
        runtime_set_bus(a->runtime, conn);
        return request_name(conn);
}

static void on_disconnected(struct bus *bus, void *userdata) {
        struct agent *a = userdata;

        certmonger_detach(TAKE_PTR(a->cm));
        api_detach(TAKE_PTR(a->api));
        runtime_set_bus(a->runtime, NULL);
}

/* ---- signals ---- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct agent *a = userdata;

        if (si->ssi_signo == SIGHUP) {
                char err[1024] = "";

                if (on_reload_request(err, sizeof(err), a) < 0)
                        log_error("SIGHUP: manifest not reloaded, the previous one stays in force");
                return 0;
        }
        log_info("stopping on signal %d", (int) si->ssi_signo);
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int setup_loop(struct agent *a) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        r = sd_event_default(&a->event);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGTERM, on_signal, a);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGINT, on_signal, a);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGHUP, on_signal, a);
        if (r >= 0)
                r = sd_event_set_watchdog(a->event, true);
        return r;
}

/* ---- arguments ---- */

static void help(void) {
        printf("Usage: ctrcert-agent [--config PATH] [--bus system|session|ADDRESS] [--debug]\n"
               "Restarts, signals or execs in only the containers bound to a certificate certmonger saved.\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  -b, --bus BUS      the bus certmonger is on (default system)\n"
               "  -d, --debug        log debug lines too (as CTRCERT_LOG_LEVEL=debug)\n"
               "  -h, --help         this text\n"
               "  -V, --version      the version\n"
               "See ctrcert-agent(8).\n",
               CTRCERT_CONFIG_PATH);
}

static int parse_args(int argc, char **argv, struct agent *a) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "bus", required_argument, NULL, 'b' },
                { "debug", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:b:dhV", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        a->config_path = optarg;
                        break;
                case 'b':
                        a->bus_spec = optarg;
                        break;
                case 'd':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("ctrcert-agent %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int load_config(struct agent *a) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_free_ char *why = NULL;
        int r;

        /* It names the runtime CLIs the agent runs as root: root's alone, or not read at all. */
        r = path_check_trusted(a->config_path, S_IFREG, &why);
        if (r == -EPERM)
                return log_error_errno(r, "config %s is not safe to trust: %s", a->config_path, why);
        r = config_load(a->config_path, &a->cfg, &d);

        if (r == -ENOENT)
                return log_error_errno(r, "config %s: %m", a->config_path);
        if (r < 0)
                diag_list_print(&d, stderr);
        else
                check_writable(a->cfg, NULL);
        return r;
}

/* Before any state is read or written: a second agent on the same state would act twice on everything. */
static int lock_state(struct agent *a) {
        _cleanup_free_ char *dir = path_join(a->cfg->state_dir, "agent");
        pid_t holder = 0;
        int r;

        if (!dir)
                return -ENOMEM;
        r = statelock_take(dir, &a->lock_fd, &holder);
        if (r == -EBUSY && holder > 0)
                log_error("another ctrcert-agent holds %s/lock (pid %ld)", dir, (long) holder);
        else if (r == -EBUSY)
                log_error("another ctrcert-agent holds %s/lock", dir);
        else if (r < 0)
                log_error_errno(r, "cannot lock %s/lock: %m", dir);
        return r;
}

/*
 * Work a previous agent left: its unfinished jobs (killed, crashed, host
 * rebooted), and certificates saved while no agent ran at all (stopped,
 * upgraded, not yet started at boot).
 */
static int pick_up_work(struct agent *a) {
        unsigned resumed = 0, changed = 0;
        int r = engine_resume(a->engine, &resumed);

        if (r < 0)
                return log_error_errno(r, "cannot read the job queue in %s/agent: %m", a->cfg->state_dir);
        if (resumed > 0)
                log_notice("resuming the unfinished jobs of %u container(s)", resumed);
        r = engine_catch_up(a->engine, &changed);
        if (r < 0)
                return log_error_errno(r, "cannot compare the certificates with %s/agent/seen: %m", a->cfg->state_dir);
        if (changed > 0)
                log_notice("%u certificate(s) changed while no agent was running; their containers get a job", changed);
        return 0;
}

static void agent_done(struct agent *a) {
        certmonger_detach(a->cm);
        api_detach(a->api);
        crlpub_free(a->crlpub);
        bus_free(a->bus);
        engine_free(a->engine);
        runtime_free(a->runtime);
        sd_event_unref(a->event);
        config_free(a->cfg);
        if (a->lock_fd >= 0)
                close(a->lock_fd); /* last: until here, this agent still acts on the state */
}

/* Steps 3 to 5 of main. Takes b. */
static int start(struct agent *a, struct bindings *b) {
        /* 3. One event loop; jobs act through the runtime; the engine turns saved certificates into jobs. */
        int r = setup_loop(a);

        if (r >= 0)
                r = runtime_new(a->event, a->cfg, &a->runtime);
        if (r < 0) {
                bindings_unref(b);
                return r;
        }
        r = engine_new(a->event, a->cfg, a->runtime, b, on_job_finished, a, &a->engine);
        /* 4. The bus: certmonger's signals in, our API out; the name is ours before any work starts. */
        if (r >= 0)
                r = bus_new(a->event, a->bus_spec, on_connected, on_disconnected, a, &a->bus);
        if (r >= 0)
                r = bus_start(a->bus);
        /* 5. What a previous agent left: unfinished jobs, certificates saved while none ran. */
        if (r >= 0)
                r = pick_up_work(a);
        if (r >= 0)
                r = crlpub_new(a->event, a->cfg->state_dir, a->cfg->agent.crl_publish, &a->crlpub);
        return r;
}

int main(int argc, char **argv) {
        struct agent a = { .config_path = CTRCERT_CONFIG_PATH, .bus_spec = "system", .lock_fd = -1 };
        struct bindings *b = NULL;
        int r;

        log_setup("ctrcert-agent");
        log_set_timestamps(true); /* to line its lines up with podman events when not under journald */
        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        /* 1. What to watch: configuration and manifest; a bad one stops us here, naming file:line:col. */
        if (crypto_init() < 0 || load_config(&a) < 0 || load_bindings(a.cfg, &b, NULL, 0) < 0) {
                log_error("not starting");
                agent_done(&a);
                return 1;
        }
        /* 2. The state is ours alone, or we change nothing and stop. */
        r = lock_state(&a);
        if (r < 0) {
                bindings_unref(b);
                log_error("not starting");
                agent_done(&a);
                return 1;
        }
        r = start(&a, b);
        if (r < 0) {
                log_error_errno(r, "cannot start: %m");
                agent_done(&a);
                return 1;
        }
        /* READY only now: the name is ours, the previous agent's work is picked up, the CRL published. */
        sd_notifyf(0, "READY=1\nSTATUS=watching %zu bindings", bindings_count(engine_bindings(a.engine)));
        log_info("watching %zu bindings on the %s bus", bindings_count(engine_bindings(a.engine)), a.bus_spec);
        r = sd_event_loop(a.event);
        agent_done(&a);
        return r < 0 ? 1 : 0;
}
