/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <libgen.h>
#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fileio.h"
#include "manifest.h"
#include "names.h"
#include "strmap.h"
#include "strv.h"
#include "yamltree.h"
#include "ywalk.h"

#define MANIFEST_MAX_FRAGMENTS 1024
#define DEFAULT_VERIFY_TIMEOUT_USEC (30ULL * 1000000ULL)

const char *const usage_names[] = { "server", "client" };
const char *const runtime_names[] = { "podman", "docker", "systemd" };
const char *const action_names[] = { "restart", "reload", "exec", "none" };
static const char *const part_names[] = { "cert", "chain", "key", "root" };
static const char *const copy_names[] = { "cert", "key", "chain", "root", "bundle" };

/* ---- freeing ---- */

static void mf_container_done(struct mf_container *c) {
        free(c->name);
        free(c->match);
        strv_free(c->exec);
        for (size_t i = 0; i < c->n_copies; i++) {
                free(c->copies[i].to);
                free(c->copies[i].owner);
        }
        free(c->copies);
        if (c->verify) {
                free(c->verify->tls);
                free(c->verify->sni);
                strv_free(c->verify->exec);
                free(c->verify);
        }
        strv_free(c->after);
        window_set_done(&c->windows);
        free(c->pos.file);
}

static void mf_cert_done(struct mf_cert *c) {
        free(c->id);
        free(c->cert);
        free(c->key);
        strv_free(c->dns);
        strv_free(c->ip);
        strv_free(c->email);
        if (c->bundle) {
                free(c->bundle->path);
                free(c->bundle->owner);
                free(c->bundle);
        }
        for (size_t i = 0; i < c->n_containers; i++)
                mf_container_done(&c->containers[i]);
        free(c->containers);
        free(c->pos.file);
}

void manifest_free(struct manifest *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_certs; i++)
                mf_cert_done(&m->certs[i]);
        free(m->certs);
        free(m);
}

const struct mf_cert *manifest_find(const struct manifest *m, const char *id) {
        for (size_t i = 0; i < m->n_certs; i++)
                if (streq(m->certs[i].id, id))
                        return &m->certs[i];
        return NULL;
}

static int position_set(struct position *p, struct ywalk *w, const struct ynode *n) {
        p->file = strdup(w->file);
        p->line = n->line;
        p->column = n->column;
        return p->file ? 0 : -ENOMEM;
}

/* Runs parse on every item of a sequence; items land in a growing array of item_size. */
typedef int (*yitem_parse_t)(struct ywalk *w, const struct ynode *n, const char *field, void *item);

static int ywalk_sequence(struct ywalk *w, const struct ynode *n, const char *field, size_t item_size,
                          yitem_parse_t parse, void (*done)(void *), void **array, size_t *count) {
        int r, ret = 0;

        r = ywalk_expect(w, n, field, YNODE_SEQUENCE);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *path = yfield_index(field, i);
                char *p;

                if (!path)
                        return -ENOMEM;
                p = realloc(*array, (*count + 1) * item_size);
                if (!p)
                        return -ENOMEM;
                *array = p;
                memset(p + *count * item_size, 0, item_size);
                r = parse(w, n->items[i], path, p + *count * item_size);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        done(p + *count * item_size);
                        ret = r;
                        continue;
                }
                (*count)++;
        }
        return ret;
}

/* ---- names ---- */

typedef bool (*name_valid_t)(const char *s);

static bool ip_valid(const char *s) {
        struct ip_addr a;
        return ip_addr_parse(s, &a) >= 0;
}

static int parse_name_list(struct ywalk *w, const struct ynode *n, const char *field, void *target,
                           name_valid_t valid, const char *what) {
        int r, ret = 0;

        r = yparse_strv(w, n, field, target);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++)
                if (!valid(n->items[i]->value)) {
                        _cleanup_free_ char *path = yfield_index(field, i);
                        ret = ywalk_error(w, n->items[i], path ? path : field, "'%s' is not a valid %s",
                                          n->items[i]->value, what);
                }
        return ret;
}

static int parse_dns(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return parse_name_list(w, n, field, target, dns_name_valid, "DNS name");
}

static int parse_ip(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return parse_name_list(w, n, field, target, ip_valid, "IP address");
}

static int parse_email(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return parse_name_list(w, n, field, target, email_valid, "email address");
}

static int parse_names(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct yfield fields[] = {
                { "dns", parse_dns, offsetof(struct mf_cert, dns), false },
                { "ip", parse_ip, offsetof(struct mf_cert, ip), false },
                { "email", parse_email, offsetof(struct mf_cert, email), false },
        };
        struct mf_cert *c = (struct mf_cert *) ((char *) target - offsetof(struct mf_cert, dns));
        int r;

        r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), c);
        if (r < 0)
                return r;
        if (strv_length(c->dns) + strv_length(c->ip) + strv_length(c->email) == 0)
                return ywalk_error(w, n, field, "declares no names (give dns, ip or email)");
        return 0;
}

/* ---- usage, id ---- */

static int parse_usage(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        unsigned *usage = target;
        int r, ret = 0;

        r = ywalk_expect(w, n, field, YNODE_SEQUENCE);
        if (r < 0)
                return r;
        if (n->n_items == 0)
                return ywalk_error(w, n, field, "must name at least one of server, client");
        *usage = 0;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *path = yfield_index(field, i);
                int u;

                r = ywalk_enum(w, n->items[i], path ? path : field, usage_names, 2, &u);
                if (r < 0)
                        ret = r;
                else
                        *usage |= 1u << u;
        }
        return ret;
}

static int parse_id(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_string(w, n, field, target);
        const char *id = *(char **) target;

        if (r < 0)
                return r;
        if (strlen(id) > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                                       strlen(id) || id[0] == '-' || id[0] == '.')
                return ywalk_error(w, n, field,
                                   "'%s' is not a valid id (letters, digits, '.', '_', '-'; at most 64; not starting with '-' or '.')",
                                   id);
        return 0;
}

/* ---- bundle ---- */

static int parse_parts(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct mf_bundle *b = (struct mf_bundle *) ((char *) target - offsetof(struct mf_bundle, parts));
        int r, ret = 0;

        r = ywalk_expect(w, n, field, YNODE_SEQUENCE);
        if (r < 0)
                return r;
        if (n->n_items == 0)
                return ywalk_error(w, n, field, "must name at least one part (cert, chain, key, root)");
        b->n_parts = 0;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *path = yfield_index(field, i);
                int p;

                r = ywalk_enum(w, n->items[i], path ? path : field, part_names, _PART_MAX, &p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                for (size_t j = 0; j < b->n_parts; j++)
                        if (b->parts[j] == p)
                                r = ywalk_error(w, n->items[i], path ? path : field, "'%s' is listed twice",
                                                part_names[p]);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                b->parts[b->n_parts++] = p;
        }
        return ret;
}

static int parse_mode_flagged(struct ywalk *w, const struct ynode *n, const char *field, void *target,
                              bool *has_mode) {
        int r = yparse_mode(w, n, field, target);

        if (r >= 0)
                *has_mode = true;
        return r;
}

static int parse_bundle_mode(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct mf_bundle *b = (struct mf_bundle *) ((char *) target - offsetof(struct mf_bundle, mode));
        return parse_mode_flagged(w, n, field, target, &b->has_mode);
}

static int parse_bundle(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct yfield fields[] = {
                { "path", yparse_abs_path, offsetof(struct mf_bundle, path), true },
                { "parts", parse_parts, offsetof(struct mf_bundle, parts), true },
                { "owner", yparse_owner, offsetof(struct mf_bundle, owner), false },
                { "mode", parse_bundle_mode, offsetof(struct mf_bundle, mode), false },
        };
        struct mf_bundle **ret = target;
        struct mf_bundle *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return -ENOMEM;
        *ret = b; /* owned by the certificate from now on, freed with it on error too */
        r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), b);
        if (r < 0 || !b->has_mode)
                return r;
        if (b->mode & 07000)
                return ywalk_error(w, n, field, "mode %04o: no setuid, setgid or sticky bit on a bundle", b->mode);
        for (size_t i = 0; i < b->n_parts; i++)
                if (b->parts[i] == PART_KEY && (b->mode & ~0640u))
                        return ywalk_error(w, n, field,
                                           "mode %04o: the bundle holds the key, so at most 0640 (owner read-write, group read)",
                                           b->mode);
        return 0;
}

/* ---- containers ---- */

static int parse_copy_from(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_enum(w, n, field, copy_names, _COPY_MAX, target);
}

static int parse_copy_mode(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct mf_copy *c = (struct mf_copy *) ((char *) target - offsetof(struct mf_copy, mode));
        return parse_mode_flagged(w, n, field, target, &c->has_mode);
}

static void mf_copy_done(void *p) {
        struct mf_copy *c = p;

        free(c->to);
        free(c->owner);
}

static int parse_copy_item(struct ywalk *w, const struct ynode *n, const char *field, void *item) {
        static const struct yfield fields[] = {
                { "from", parse_copy_from, offsetof(struct mf_copy, from), true },
                { "to", yparse_abs_path, offsetof(struct mf_copy, to), true },
                { "owner", yparse_owner, offsetof(struct mf_copy, owner), false },
                { "mode", parse_copy_mode, offsetof(struct mf_copy, mode), false },
        };
        struct mf_copy *c = item;
        int r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), item);

        if (r >= 0 && c->has_mode && (c->mode & 07000))
                return ywalk_error(w, n, field, "mode %04o: no setuid, setgid or sticky bit on a copied file", c->mode);
        return r;
}

static int parse_copies(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct mf_container *c = (struct mf_container *) ((char *) target - offsetof(struct mf_container, copies));

        return ywalk_sequence(w, n, field, sizeof(struct mf_copy), parse_copy_item, mf_copy_done,
                              (void **) &c->copies, &c->n_copies);
}

static int parse_runtime(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_enum(w, n, field, runtime_names, _RUNTIME_MAX, target);
}

static int parse_action(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_enum(w, n, field, action_names, _ACTION_MAX, target);
}

static int parse_signal(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct { const char *name; int sig; } sigs[] = {
                { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
                { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "WINCH", SIGWINCH }, { "CONT", SIGCONT },
        };
        const char *s;

        if (n->kind != YNODE_SCALAR || ynode_is_null(n))
                return ywalk_error(w, n, field, "expected a signal name such as HUP");
        s = n->value;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (strcasecmp(s, sigs[i].name) == 0) {
                        *(int *) target = sigs[i].sig;
                        return 0;
                }
        return ywalk_error(w, n, field, "'%s' is not a signal a service reloads on (HUP, USR1, USR2, INT, QUIT, TERM, WINCH, CONT)",
                           n->value);
}

static int parse_argv(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_strv(w, n, field, target);

        if (r < 0)
                return r;
        if (strv_length(*(char ***) target) == 0)
                return ywalk_error(w, n, field, "must name a command (a list: [program, arg, …])");
        return 0;
}

static int tls_endpoint_check(const char *s) {
        const char *colon = strrchr(s, ':');
        char *end;
        unsigned long port;

        if (!colon || colon == s)
                return -EINVAL;
        if (s[0] == '[' && colon[-1] != ']')
                return -EINVAL;
        port = strtoul(colon + 1, &end, 10);
        return colon[1] && !*end && port > 0 && port <= 65535 ? 0 : -EINVAL;
}

static int parse_tls(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_string(w, n, field, target);

        if (r < 0)
                return r;
        if (tls_endpoint_check(n->value) < 0)
                return ywalk_error(w, n, field, "'%s' is not HOST:PORT (e.g. 127.0.0.1:5671, [::1]:443)", n->value);
        return 0;
}

static int parse_verify(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct yfield fields[] = {
                { "tls", parse_tls, offsetof(struct mf_verify, tls), false },
                { "sni", yparse_string, offsetof(struct mf_verify, sni), false },
                { "exec", parse_argv, offsetof(struct mf_verify, exec), false },
                { "timeout", yparse_duration, offsetof(struct mf_verify, timeout_usec), false },
        };
        struct mf_verify **ret = target, *v;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        *ret = v;
        v->timeout_usec = DEFAULT_VERIFY_TIMEOUT_USEC;
        r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), v);
        if (r < 0)
                return r;
        if (!!v->tls == !!v->exec)
                return ywalk_error(w, n, field, "give exactly one of tls and exec");
        if (v->sni && !v->tls)
                return ywalk_error(w, n, field, "sni only applies to tls");
        return 0;
}

/* A manifest walk: ywalk plus what the caller asked the loader to check (MANIFEST_*). */
struct mf_walk {
        struct ywalk w; /* first: the parsers get &w */
        unsigned flags;
};

static unsigned mf_flags(const struct ywalk *w) {
        return ((const struct mf_walk *) w)->flags;
}

#define MATCH_MAX_LENGTH 256
#define MATCH_MAX_DEPTH 16
#define MATCH_MAX_NEST 6 /* 8 nested took glibc 1.5 MB, 16 took 93 MB */
#define MATCH_MAX_WEIGHT 10000

/* The length of a bracket expression starting at p ('['), or 0 when it does not end. */
static size_t bracket_length(const char *p) {
        size_t i = 1;

        if (p[i] == '^')
                i++;
        if (p[i] == ']')
                i++;
        for (; p[i] && p[i] != ']'; i++)
                if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
                        const char *end = strchr(p + i + 2, ']');

                        if (!end)
                                return 0;
                        i = (size_t) (end - p);
                }
        return p[i] ? i + 1 : 0;
}

/* The copies a bound {m}, {m,} or {m,n} at p makes (its largest count), and its length; 0 when p is no bound. */
static unsigned long bound_count(const char *p, size_t *ret_len) {
        char *end;
        unsigned long m, n;

        if (p[0] != '{' || !isdigit((unsigned char) p[1]))
                return 0;
        m = n = strtoul(p + 1, &end, 10);
        if (*end == ',') {
                end++;
                if (isdigit((unsigned char) *end))
                        n = strtoul(end, &end, 10);
        }
        if (*end != '}')
                return 0;
        *ret_len = (size_t) (end - p) + 1;
        return n > m ? n : m > 0 ? m : 1; /* {0} counts as one: it is not free to compile either */
}

/*
 * A pattern's repetitions: glibc doubles its automaton with each repetition
 * of a repetition, stacked (a++: 16 '+' took 42 MB, 53 more than 1 GB) or
 * nested ((a+)+: 8 levels 1.5 MB, 16 levels 93 MB).
 */
struct reps {
        unsigned nest[MATCH_MAX_DEPTH + 1]; /* per open group: the deepest repetition inside it */
        unsigned last;                      /* of the last item read: repetitions inside it */
        bool repeated;                      /* the last thing read was a repetition */
};

/* *, +, ? or a bound on the last item at depth: NULL, or why the pattern is refused. */
static const char *reps_repeat(struct reps *r, unsigned depth) {
        if (r->repeated)
                return "repeats a repetition (like a++ or a*{2}): POSIX leaves that undefined";
        if (++r->last > MATCH_MAX_NEST)
                return "nests repetitions more than 6 deep (glibc's automaton doubles with each)";
        r->repeated = true;
        r->nest[depth] = r->nest[depth] > r->last ? r->nest[depth] : r->last;
        return NULL;
}

/* The group at depth closed: it is the last item, as deep as what it holds. */
static void reps_close(struct reps *r, unsigned depth) {
        r->repeated = false;
        r->last = r->nest[depth];
        r->nest[depth - 1] = r->nest[depth - 1] > r->last ? r->nest[depth - 1] : r->last;
}

/* An ordinary item: a bracket expression, an escaped character or one character; returns its length. */
static size_t reps_atom(struct reps *r, const char *p) {
        size_t len;

        r->repeated = false;
        r->last = 0;
        if (*p == '[' && (len = bracket_length(p)) > 0)
                return len;
        return *p == '\\' && p[1] ? 2 : 1;
}

static bool is_repetition(const char *p) {
        size_t len;

        return *p == '*' || *p == '+' || *p == '?' || bound_count(p, &len) > 0;
}

/*
 * What regcomp() makes of a pattern grows with the product of nested bounded
 * repetitions: ((a{100}){100}){100} is a million copies and takes glibc
 * minutes. The weight is that size (atoms, each bound multiplying what it
 * repeats); NULL when the pattern is cheap enough, else why not. Stacked
 * and deeply nested repetitions are refused too (struct reps).
 */
static const char *match_too_costly(const char *p) {
        unsigned long sum[MATCH_MAX_DEPTH + 1] = {}, last = 0;
        struct reps reps = {};
        unsigned depth = 0;
        const char *why;

        if (strlen(p) > MATCH_MAX_LENGTH)
                return "is longer than 256 characters";
        for (size_t i = 0, len; p[i]; i++) {
                unsigned long count;

                if (p[i] == '\\' && p[i + 1] >= '1' && p[i + 1] <= '9')
                        return "has a back-reference (matching one can take exponential time)";
                if (p[i] == '(') {
                        if (++depth > MATCH_MAX_DEPTH)
                                return "nests groups deeper than 16";
                        sum[depth] = 0;
                        reps.nest[depth] = 0;
                        reps.repeated = false;
                        continue;
                }
                if (is_repetition(p + i) && (why = reps_repeat(&reps, depth)))
                        return why;
                if (p[i] == '*' || p[i] == '+' || p[i] == '?') {
                        last = 1;
                } else if (p[i] == ')' && depth > 0) {
                        reps_close(&reps, depth);
                        last = sum[depth--];
                } else if ((count = bound_count(p + i, &len)) > 0) {
                        if (last > MATCH_MAX_WEIGHT / count)
                                return "repeats too much (nested {m,n} bounds expand to more than 10000 atoms)";
                        sum[depth] += last * (count - 1);
                        last *= count;
                        i += len - 1;
                        continue;
                } else {
                        i += reps_atom(&reps, p + i) - 1;
                        last = 1;
                }
                sum[depth] += last;
                if (sum[depth] > MATCH_MAX_WEIGHT)
                        return "repeats too much (nested {m,n} bounds expand to more than 10000 atoms)";
        }
        return NULL;
}

/* A match: pattern: bounded in cost always, compiled unless the caller only needs the policy. */
static int match_check(struct ywalk *w, const struct ynode *n, const char *field, const char *match) {
        const char *costly = match_too_costly(match);
        regex_t re;
        int e;

        if (costly)
                return ywalk_error(w, n, field, "match %s", costly);
        if (mf_flags(w) & MANIFEST_POLICY_ONLY)
                return 0;
        e = regcomp(&re, match, REG_EXTENDED | REG_NOSUB);
        if (e != 0) {
                char buf[128];

                regerror(e, &re, buf, sizeof(buf));
                return ywalk_error(w, n, field, "match '%s' is not a valid regular expression: %s", match, buf);
        }
        regfree(&re);
        return 0;
}

/* ---- names handed to runtimes: never an option, never a path ---- */

#define RUNTIME_NAME_MAX 255

static bool ascii_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* podman's rule, [a-zA-Z0-9][a-zA-Z0-9_.-]* (docker's is the same but for a second character). */
static bool container_name_valid(const char *s) {
        if (!ascii_alnum(s[0]) || strlen(s) > RUNTIME_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!ascii_alnum(*s) && !strchr("_.-", *s))
                        return false;
        return true;
}

/* systemd's rule: PREFIX[@INSTANCE].TYPE of [a-zA-Z0-9:_.\\-], the instance not empty (a template cannot be restarted). */
static bool unit_name_valid(const char *s) {
        static const char *const types[] = { "service", "socket", "target", "device", "mount", "automount",
                                             "swap", "timer", "path", "slice", "scope" };
        const char *dot = strrchr(s, '.'), *at = strchr(s, '@');
        bool type_ok = false;

        if (!dot || dot == s || strlen(s) > RUNTIME_NAME_MAX)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                type_ok = type_ok || streq(dot + 1, types[i]);
        if (!type_ok || (at && (at == s || at + 1 >= dot || strchr(at + 1, '@'))))
                return false;
        for (const char *p = s; p < dot; p++)
                if (!ascii_alnum(*p) && !strchr(":_.\\-@", *p))
                        return false;
        return true;
}

static const struct ynode *mapping_value(const struct ynode *map, const char *key) {
        for (size_t i = 0; map->kind == YNODE_MAPPING && i + 1 < map->n_items; i += 2)
                if (map->items[i]->kind == YNODE_SCALAR && streq(map->items[i]->value, key))
                        return map->items[i + 1];
        return map;
}

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* The name goes to a runtime's command line or to systemd: its syntax is checked against the runtime's own rule. */
static int container_name_check(struct ywalk *w, const struct ynode *n, const char *field, const struct mf_container *c) {
        _cleanup_free_ char *path = yfield_path(field, "name");
        bool unit = c->runtime == RUNTIME_SYSTEMD;
        const char *what, *rule;

        if (!path)
                return -ENOMEM;
        if (unit ? unit_name_valid(c->name) : container_name_valid(c->name))
                return 0;
        what = unit ? "systemd unit name" : c->runtime == RUNTIME_DOCKER ? "docker container name" : "podman container name";
        rule = unit ? "PREFIX[@INSTANCE].TYPE of letters, digits and :_.\\-, e.g. httpd.service"
                    : "a letter or digit, then letters, digits, _ . or -";
        if (!printable(c->name))
                return ywalk_error(w, mapping_value(n, "name"), path, "a name with control characters is not a valid %s (%s)",
                                   what, rule);
        return ywalk_error(w, mapping_value(n, "name"), path, "'%s' is not a valid %s (%s)", c->name, what, rule);
}

/* What one container entry says must hold together; checked after its keys. */
static int container_check(struct ywalk *w, const struct ynode *n, const char *field, struct mf_container *c) {
        int r, ret = 0;

        if (!!c->name == !!c->match)
                ret = ywalk_error(w, n, field, "give exactly one of name and match");
        else if (c->name && (r = container_name_check(w, n, field, c)) < 0)
                ret = r;
        if (c->match && match_check(w, n, field, c->match) < 0)
                ret = -EINVAL;
        if ((c->action == ACTION_EXEC) != !!c->exec)
                ret = ywalk_error(w, n, field, c->exec ? "exec is given but action is not exec"
                                                       : "action exec needs exec: [program, arg, …]");
        if (c->signal && c->action != ACTION_RELOAD)
                ret = ywalk_error(w, n, field, "signal only applies to action reload");
        c->signal_set = c->signal != 0;
        if (c->action == ACTION_RELOAD && !c->signal)
                c->signal = SIGHUP;
        if (c->runtime == RUNTIME_SYSTEMD && (c->n_copies > 0 || c->action == ACTION_EXEC))
                ret = ywalk_error(w, n, field, "runtime systemd manages units, not containers: no copy or exec");
        return ret;
}

static int parse_container_item(struct ywalk *w, const struct ynode *n, const char *field, void *item) {
        static const struct yfield fields[] = {
                { "name", yparse_string, offsetof(struct mf_container, name), false },
                { "match", yparse_string, offsetof(struct mf_container, match), false },
                { "runtime", parse_runtime, offsetof(struct mf_container, runtime), false },
                { "copy", parse_copies, offsetof(struct mf_container, copies), false },
                { "action", parse_action, offsetof(struct mf_container, action), false },
                { "signal", parse_signal, offsetof(struct mf_container, signal), false },
                { "exec", parse_argv, offsetof(struct mf_container, exec), false },
                { "verify", parse_verify, offsetof(struct mf_container, verify), false },
                { "after", yparse_strv, offsetof(struct mf_container, after), false },
                { "windows", yparse_windows, offsetof(struct mf_container, windows), false },
        };
        struct mf_container *c = item;
        int r;

        c->runtime = RUNTIME_PODMAN;
        c->action = ACTION_RESTART;
        r = position_set(&c->pos, w, n);
        if (r < 0)
                return r;
        r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), c);
        if (r < 0)
                return r;
        return container_check(w, n, field, c);
}

static void mf_container_done_v(void *p) {
        mf_container_done(p);
}

static int parse_containers(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct mf_cert *c = (struct mf_cert *) ((char *) target - offsetof(struct mf_cert, containers));

        return ywalk_sequence(w, n, field, sizeof(struct mf_container), parse_container_item, mf_container_done_v,
                              (void **) &c->containers, &c->n_containers);
}

/* ---- certificates ---- */

static int parse_cert_item(struct ywalk *w, const struct ynode *n, const char *field, void *item) {
        static const struct yfield fields[] = {
                { "id", parse_id, offsetof(struct mf_cert, id), true },
                { "cert", yparse_abs_path, offsetof(struct mf_cert, cert), true },
                { "key", yparse_abs_path, offsetof(struct mf_cert, key), true },
                { "names", parse_names, offsetof(struct mf_cert, dns), true },
                { "usage", parse_usage, offsetof(struct mf_cert, usage), false },
                { "bundle", parse_bundle, offsetof(struct mf_cert, bundle), false },
                { "containers", parse_containers, offsetof(struct mf_cert, containers), false },
        };
        struct mf_cert *c = item;
        int r;

        c->usage = USAGE_SERVER;
        r = position_set(&c->pos, w, n);
        if (r < 0)
                return r;
        r = ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), c);
        if (r < 0)
                return r;
        if (streq(c->cert, c->key))
                return ywalk_error(w, n, field, "cert and key are the same file");
        return 0;
}

static void mf_cert_done_v(void *p) {
        mf_cert_done(p);
}

static int parse_certificates(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct manifest *m = target;

        return ywalk_sequence(w, n, field, sizeof(struct mf_cert), parse_cert_item, mf_cert_done_v,
                              (void **) &m->certs, &m->n_certs);
}

static int parse_version(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        unsigned v;
        int r = ywalk_uint(w, n, field, 0, 1000000, &v);

        if (r < 0)
                return r;
        if (v != MANIFEST_VERSION)
                return ywalk_error(w, n, field, "unknown version %u (this ctrcert reads version %d)", v,
                                   MANIFEST_VERSION);
        (void) target;
        return 0;
}

/* One document's top level; its certificates are appended to m. */
static int manifest_parse_doc(struct ywalk *w, const struct ydoc *doc, struct manifest *m) {
        static const struct yfield fields[] = {
                { "version", parse_version, 0, true },
                { "certificates", parse_certificates, 0, true },
        };

        if (!doc->root)
                return ywalk_error(w, NULL, "", "empty manifest (expected version: 1 and certificates:)");
        return ywalk_mapping(w, doc->root, "", fields, ELEMENTSOF(fields), m);
}

/* ---- checks across all files ---- */

static void cross_error(struct diag_list *d, const struct mf_cert *c, const char *what, const char *value,
                        const struct position *other) {
        diag_add(d, DIAG_ERROR, c->pos.file, c->pos.line, c->pos.column, c->id, "%s '%s' (first at %s:%u:%u)", what,
                 value, other->file, other->line, other->column);
}

static void check_shared(const struct mf_cert *c, struct diag_list *d) {
        _cleanup_free_ char *names = NULL;
        size_t len = 0;

        if (c->n_containers < 2)
                return;
        for (size_t j = 0; j < c->n_containers; j++) {
                const char *n = c->containers[j].name ? c->containers[j].name : c->containers[j].match;
                char *p = realloc(names, len + strlen(n) + 3);

                if (!p)
                        return;
                names = p;
                len += (size_t) sprintf(names + len, "%s%s", j ? ", " : "", n);
        }
        diag_add(d, DIAG_WARNING, c->pos.file, c->pos.line, c->pos.column, c->id,
                 "certificate shared by %zu containers (%s): each renewal acts on all of them; give each its own id",
                 c->n_containers, names);
}

static void check_after(const struct strmap *names, const struct mf_cert *c, struct diag_list *d) {
        for (size_t j = 0; j < c->n_containers; j++)
                STRV_FOREACH(a, c->containers[j].after)
                        if (!strmap_get(names, *a))
                                diag_add(d, DIAG_ERROR, c->containers[j].pos.file, c->containers[j].pos.line,
                                         c->containers[j].pos.column, c->id,
                                         "after: '%s' is not a container named in the manifest", *a);
}

/* A file may belong to one certificate only, as its cert or its key. */
static int check_file(struct strmap *files, const struct mf_cert *c, const char *path, const char *what,
                      struct diag_list *d) {
        void *prev;
        int r = strmap_put(files, path, (void *) c, &prev);

        if (r > 0)
                cross_error(d, c, what, path, &((const struct mf_cert *) prev)->pos);
        return r < 0 ? r : 0;
}

/* Checks across all files, each O(1) per certificate: manifests of tens of thousands load fast. */
static int manifest_check_all(const struct manifest *m, struct diag_list *d) {
        struct strmap *ids = NULL, *files = NULL, *names = NULL;
        int r;

        r = strmap_new(m->n_certs, &ids);
        if (r >= 0)
                r = strmap_new(m->n_certs * 2, &files);
        if (r >= 0)
                r = strmap_new(m->n_certs, &names);
        for (size_t i = 0; i < m->n_certs && r >= 0; i++)
                for (size_t k = 0; k < m->certs[i].n_containers && r >= 0; k++)
                        if (m->certs[i].containers[k].name)
                                r = strmap_put(names, m->certs[i].containers[k].name, &m->certs[i].containers[k], NULL) < 0
                                            ? -ENOMEM
                                            : 0;
        for (size_t i = 0; i < m->n_certs && r >= 0; i++) {
                const struct mf_cert *c = &m->certs[i];
                void *prev;

                r = strmap_put(ids, c->id, (void *) c, &prev);
                if (r > 0)
                        cross_error(d, c, "duplicate id", c->id, &((const struct mf_cert *) prev)->pos);
                if (r >= 0)
                        r = check_file(files, c, c->cert, "cert file already used by another certificate:", d);
                if (r >= 0)
                        r = check_file(files, c, c->key, "key file already used by another certificate:", d);
                check_shared(c, d);
                check_after(names, c, d);
        }
        strmap_free(ids);
        strmap_free(files);
        strmap_free(names);
        return r < 0 ? r : 0;
}

/* ---- loading ---- */

static int manifest_parse_buffer(struct manifest *m, const char *name, const char *buf, size_t len, unsigned flags,
                                 struct diag_list *diags) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        struct mf_walk w = { .w = { .file = name, .diags = diags }, .flags = flags };
        int r;

        r = ydoc_parse(name, buf, len, &doc, diags);
        if (r < 0)
                return r;
        return manifest_parse_doc(&w.w, doc, m);
}

static int manifest_parse_file(struct manifest *m, const char *path, unsigned flags, struct diag_list *diags) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r < 0) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read: %s", read_error_str(r));
                return r;
        }
        return manifest_parse_buffer(m, path, buf, len, flags, diags);
}

static int manifest_finish(struct manifest *m, struct diag_list *diags, size_t errors_before, struct manifest **ret) {
        if (manifest_check_all(m, diags) < 0) {
                manifest_free(m);
                return -ENOMEM;
        }
        if (diags->n_errors > errors_before) {
                manifest_free(m);
                return -EINVAL;
        }
        *ret = m;
        return 0;
}

int manifest_load_files(char *const *paths, struct manifest **ret, struct diag_list *diags) {
        return manifest_load_files_flags(paths, 0, ret, diags);
}

int manifest_load_files_flags(char *const *paths, unsigned flags, struct manifest **ret, struct diag_list *diags) {
        struct manifest *m = calloc(1, sizeof(*m));
        size_t errors_before = diags->n_errors;

        if (!m)
                return -ENOMEM;
        STRV_FOREACH(p, paths)
                if (manifest_parse_file(m, *p, flags, diags) == -ENOMEM) {
                        manifest_free(m);
                        return -ENOMEM;
                }
        return manifest_finish(m, diags, errors_before, ret);
}

int manifest_load_buffer(const char *name, const char *buf, size_t len, struct manifest **ret,
                         struct diag_list *diags) {
        struct manifest *m = calloc(1, sizeof(*m));
        size_t errors_before = diags->n_errors;

        if (!m)
                return -ENOMEM;
        if (manifest_parse_buffer(m, name, buf, len, 0, diags) == -ENOMEM) {
                manifest_free(m);
                return -ENOMEM;
        }
        return manifest_finish(m, diags, errors_before, ret);
}

static int yaml_fragment_filter(const struct dirent *de) {
        size_t l = strlen(de->d_name);

        return de->d_name[0] != '.' && l > 5 && streq(de->d_name + l - 5, ".yaml");
}

char *manifest_fragment_dir(const char *path) {
        _cleanup_free_ char *copy = strdup(path);

        return copy ? path_join(dirname(copy), "manifest.d") : NULL;
}

int manifest_files(const char *path, char ***ret, struct diag_list *diags) {
        _cleanup_(strv_freep) char **v = NULL;
        _cleanup_free_ char *dir = manifest_fragment_dir(path);
        struct dirent **list = NULL;
        int n, r = 0;

        if (!dir)
                return -ENOMEM;
        if (access(path, F_OK) >= 0 || errno != ENOENT)
                r = strv_push(&v, path);
        n = scandir(dir, &list, yaml_fragment_filter, alphasort);
        /* Every fragment or none: a policy with some of its parts dropped would be a different policy. */
        if (n > MANIFEST_MAX_FRAGMENTS && r >= 0) {
                diag_add(diags, DIAG_ERROR, dir, 0, 0, NULL, "%d fragments, more than the %d allowed: merge some",
                         n, MANIFEST_MAX_FRAGMENTS);
                r = -E2BIG;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(dir, list[i]->d_name);

                if (r >= 0)
                        r = p ? strv_push(&v, p) : -ENOMEM;
                free(list[i]);
        }
        free(list);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int manifest_load(const char *path, struct manifest **ret, struct diag_list *diags) {
        _cleanup_(strv_freep) char **paths = NULL;
        int r;

        r = manifest_files(path, &paths, diags);
        if (r < 0)
                return r;
        if (!paths) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "no manifest: neither this file nor manifest.d/*.yaml beside it exists");
                return -ENOENT;
        }
        return manifest_load_files(paths, ret, diags);
}

/* One path: 0 (or missing), -EPERM with the path and why, or another -errno. */
static int trusted_one(const char *path, mode_t type, char **ret_path, char **ret_why) {
        _cleanup_free_ char *why = NULL;
        int r = path_check_trusted(path, type, &why);

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *ret_path = strdup(path);
                *ret_why = TAKE_PTR(why);
                if (!*ret_why)
                        *ret_why = strdup(strerror(-r));
        }
        return r;
}

int manifest_files_trusted(const char *path, char *const *files, char **ret_path, char **ret_why) {
        _cleanup_free_ char *dir = manifest_fragment_dir(path);
        int r;

        if (!dir)
                return -ENOMEM;
        r = trusted_one(dir, S_IFDIR, ret_path, ret_why);
        STRV_FOREACH(f, files)
                if (r >= 0)
                        r = trusted_one(*f, S_IFREG, ret_path, ret_why);
        return r;
}
