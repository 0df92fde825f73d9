/* SPDX-License-Identifier: MIT */
/* The scheduling rules of agent/sched.c, one test a rule, on a clock the test moves. */
#include "sched.h"
#include "unit.h"

#define S(x) ((uint64_t) (x) * 1000000ULL) /* seconds as the scheduler's microseconds */

static const struct sched_rules rules = {
        .debounce = S(2), .debounce_max = S(20), .max_parallel = 2, .restart_budget = 2, .restart_window = S(600),
};

/* Runs c's window to its end at now; returns the verdict and, for SCHED_WAIT, the next due in *due. */
static enum sched_verdict end_window(struct sched *s, struct sched_ctr *c, uint64_t now, uint64_t *due) {
        *due = 0;
        return sched_window_ended(s, c, now, due);
}

START_TEST(test_coalescing_one_window_per_burst) {
        struct sched s;
        struct sched_ctr c = {};
        uint64_t due;

        sched_init(&s, &rules);
        ck_assert_uint_eq(sched_saved(&s, &c, S(100)), S(102)); /* the first save opens the window */
        ck_assert_int_eq(c.state, SCHED_WAITING);
        ck_assert_uint_eq(sched_saved(&s, &c, S(101)), S(103)); /* each further one starts it again */
        ck_assert_uint_eq(sched_saved(&s, &c, S(102)), S(104));
        ck_assert_int_eq(end_window(&s, &c, S(104), &due), SCHED_READY);
        ck_assert_int_eq(c.state, SCHED_QUEUED);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c); /* three saves, one job */
        ck_assert_ptr_null(sched_next(&s, NULL, NULL));
}
END_TEST

START_TEST(test_debounce_max_caps_a_restarting_window) {
        struct sched s;
        struct sched_ctr c = {};

        sched_init(&s, &rules);
        sched_saved(&s, &c, S(0));
        for (unsigned t = 1; t < 18; t++)
                sched_saved(&s, &c, S(t));
        /* saves every second would extend it for ever: debounce_max after the first one is the end */
        ck_assert_uint_eq(sched_saved(&s, &c, S(19)), S(20));
}
END_TEST

START_TEST(test_work_saved_while_busy_waits_for_the_next_job) {
        struct sched s;
        struct sched_ctr c = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c, S(0));
        end_window(&s, &c, S(2), &due);
        ck_assert_uint_eq(sched_saved(&s, &c, S(3)), 0); /* queued: no second window */
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c);
        ck_assert_uint_eq(sched_saved(&s, &c, S(4)), 0); /* running: gathered for the next job */
        /* the job ends with work left: a new window opens at once */
        ck_assert_uint_eq(sched_job_ended(&s, &c, false, true, S(10)), S(12));
        ck_assert_int_eq(c.state, SCHED_WAITING);
        ck_assert_uint_eq(sched_job_ended(&s, &(struct sched_ctr) { .state = SCHED_IDLE }, false, false, S(10)), 0);
}
END_TEST

START_TEST(test_renewing_wait_and_its_cap) {
        struct sched s;
        struct sched_ctr c = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c, S(0));
        c.renewing = 1; /* certmonger still renews another of its certificates */
        ck_assert_int_eq(end_window(&s, &c, S(2), &due), SCHED_WAIT);
        ck_assert_uint_eq(due, S(4));
        ck_assert_int_eq(c.state, SCHED_WAITING);
        ck_assert_int_eq(end_window(&s, &c, S(4), &due), SCHED_WAIT);
        /* never past debounce_max: acting on what was saved, and saying so */
        ck_assert_int_eq(end_window(&s, &c, S(20), &due), SCHED_READY_CAPPED);
        ck_assert_int_eq(c.state, SCHED_QUEUED);

        /* the renewal ends (saved or refused): the next window end queues the job */
        struct sched_ctr d = {};
        sched_saved(&s, &d, S(30));
        d.renewing = 1;
        ck_assert_int_eq(end_window(&s, &d, S(32), &due), SCHED_WAIT);
        d.renewing = 0;
        ck_assert_int_eq(end_window(&s, &d, S(34), &due), SCHED_READY);
}
END_TEST

START_TEST(test_max_parallel_and_fifo) {
        struct sched s;
        struct sched_ctr c[3] = {};
        uint64_t due;

        sched_init(&s, &rules);
        for (unsigned i = 0; i < 3; i++) {
                sched_saved(&s, &c[i], S(i));
                end_window(&s, &c[i], S(10 + i), &due);
        }
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c[0]);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c[1]);
        ck_assert_ptr_null(sched_next(&s, NULL, NULL)); /* two run: max_parallel */
        sched_job_ended(&s, &c[0], false, false, S(20));
        ck_assert_int_eq(c[0].state, SCHED_IDLE);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c[2]);
}
END_TEST

/* after: c[1] names c[0]. */
static bool second_after_first(const struct sched_ctr *c, void *userdata) {
        struct sched_ctr *v = userdata;

        return c == &v[1] && sched_state_blocks(v[0].state);
}

START_TEST(test_after_orders_jobs) {
        struct sched s;
        struct sched_ctr c[2] = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c[1], S(0)); /* the dependent one is saved first */
        sched_saved(&s, &c[0], S(1));
        end_window(&s, &c[1], S(2), &due);
        /* c[0] still waits in its window: c[1] must not start, and nothing else can */
        ck_assert_ptr_null(sched_next(&s, second_after_first, c));
        end_window(&s, &c[0], S(3), &due);
        ck_assert_ptr_eq(sched_next(&s, second_after_first, c), &c[0]);
        ck_assert_ptr_null(sched_next(&s, second_after_first, c)); /* c[0] runs */
        sched_job_ended(&s, &c[0], false, false, S(5));
        ck_assert_ptr_eq(sched_next(&s, second_after_first, c), &c[1]);
}
END_TEST

static bool always_blocked(const struct sched_ctr *c, void *userdata) {
        return true;
}

START_TEST(test_a_cycle_does_not_stall_the_queue) {
        struct sched s;
        struct sched_ctr c[2] = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c[0], S(0));
        sched_saved(&s, &c[1], S(0));
        end_window(&s, &c[0], S(2), &due);
        /* c[1] still waits: it could unblock c[0], so nothing starts */
        ck_assert_ptr_null(sched_next(&s, always_blocked, NULL));
        end_window(&s, &c[1], S(2), &due);
        /* both queued, each waiting for the other, nothing running: the head goes */
        ck_assert_ptr_eq(sched_next(&s, always_blocked, NULL), &c[0]);
        ck_assert_ptr_null(sched_next(&s, always_blocked, NULL)); /* c[0] runs: c[1] waits for it */
        sched_job_ended(&s, &c[0], false, false, S(5));
        ck_assert_ptr_eq(sched_next(&s, always_blocked, NULL), &c[1]);
}
END_TEST

START_TEST(test_restart_budget_within_its_window) {
        struct sched s;
        struct sched_ctr c = {};

        sched_init(&s, &rules);
        ck_assert(sched_may_restart(&s, &c, S(0)));
        ck_assert_int_eq(sched_restarted(&c, S(0)), 0);
        ck_assert_int_eq(sched_restarted(&c, S(100)), 0);
        ck_assert(!sched_may_restart(&s, &c, S(200))); /* two within 600 s: spent */
        ck_assert(sched_may_restart(&s, &c, S(601)));  /* the first one left the window */
        ck_assert_uint_eq(c.n_restarts, 1);
        sched_ctr_done(&c);

        struct sched unlimited;
        struct sched_ctr d = {};
        sched_init(&unlimited, &(struct sched_rules) { .max_parallel = 1, .restart_window = S(600) });
        for (unsigned i = 0; i < 10; i++)
                ck_assert_int_eq(sched_restarted(&d, S(i)), 0);
        ck_assert(sched_may_restart(&unlimited, &d, S(10))); /* budget 0: no budget */
        sched_ctr_done(&d);
}
END_TEST

START_TEST(test_hold_and_release) {
        struct sched s;
        struct sched_ctr c = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c, S(0));
        end_window(&s, &c, S(2), &due);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c);
        sched_restarted(&c, S(3));
        sched_restarted(&c, S(4));
        ck_assert_uint_eq(sched_job_ended(&s, &c, true, true, S(5)), 0); /* held: no new window */
        ck_assert_int_eq(c.state, SCHED_HELD);
        ck_assert_uint_eq(sched_saved(&s, &c, S(6)), 0); /* a held container gathers work */
        ck_assert_ptr_null(sched_next(&s, NULL, NULL));
        ck_assert_int_eq(sched_release(&s, &(struct sched_ctr) {}), -ESRCH);
        ck_assert_int_eq(sched_release(&s, &c), 0);
        ck_assert_uint_eq(c.n_restarts, 0); /* its count starts again */
        ck_assert(sched_may_restart(&s, &c, S(7)));
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c);
        sched_ctr_done(&c);

        struct sched_ctr resumed = {};
        sched_hold(&resumed); /* a held job found on disk at start */
        ck_assert_int_eq(resumed.state, SCHED_HELD);
        ck_assert_int_eq(sched_release(&s, &resumed), 0);
}
END_TEST

START_TEST(test_a_job_that_never_started_frees_its_slot) {
        struct sched s;
        struct sched_ctr c = {}, d = {};
        uint64_t due;

        sched_init(&s, &(struct sched_rules) { .debounce = S(1), .debounce_max = S(5), .max_parallel = 1 });
        sched_saved(&s, &c, S(0));
        sched_saved(&s, &d, S(0));
        end_window(&s, &c, S(1), &due);
        end_window(&s, &d, S(1), &due);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c);
        sched_job_ended(&s, &c, false, false, S(1)); /* job_new failed */
        ck_assert_int_eq(c.state, SCHED_IDLE);
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &d);
}
END_TEST

START_TEST(test_gates_window_and_pause) {
        struct sched s;
        struct sched_ctr c[2] = {};
        uint64_t due;

        sched_init(&s, &rules);
        for (unsigned i = 0; i < 2; i++) {
                sched_saved(&s, &c[i], S(0));
                end_window(&s, &c[i], S(2), &due);
        }
        c[0].gated = true; /* outside its maintenance window: the next one passes it */
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c[1]);
        ck_assert_ptr_null(sched_next(&s, NULL, NULL));
        sched_job_ended(&s, &c[1], false, false, S(3));
        /* nothing runs or waits, only a gated one is queued: no cycle, it waits for its window */
        ck_assert_ptr_null(sched_next(&s, always_blocked, NULL));
        ck_assert_ptr_null(sched_next(&s, NULL, NULL));
        c[0].gated = false; /* the window opened */
        s.paused = true;
        ck_assert_ptr_null(sched_next(&s, NULL, NULL)); /* paused: nothing starts… */
        c[0].urgent = true;
        ck_assert_ptr_eq(sched_next(&s, NULL, NULL), &c[0]); /* …but an urgent one */
}
END_TEST

START_TEST(test_a_gated_container_still_blocks_its_dependants) {
        struct sched s;
        struct sched_ctr c[2] = {};
        uint64_t due;

        sched_init(&s, &rules);
        sched_saved(&s, &c[0], S(0));
        sched_saved(&s, &c[1], S(0));
        end_window(&s, &c[0], S(2), &due);
        end_window(&s, &c[1], S(2), &due);
        c[0].gated = true;
        /* c[1] names c[0] in after: and c[0] waits for its window: c[1] waits with it */
        ck_assert_ptr_null(sched_next(&s, second_after_first, c));
        c[0].gated = false;
        ck_assert_ptr_eq(sched_next(&s, second_after_first, c), &c[0]);
}
END_TEST

static Suite *sched_suite(void) {
        Suite *s = suite_create("sched");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_coalescing_one_window_per_burst);
        tcase_add_test(tc, test_debounce_max_caps_a_restarting_window);
        tcase_add_test(tc, test_work_saved_while_busy_waits_for_the_next_job);
        tcase_add_test(tc, test_renewing_wait_and_its_cap);
        tcase_add_test(tc, test_max_parallel_and_fifo);
        tcase_add_test(tc, test_after_orders_jobs);
        tcase_add_test(tc, test_a_cycle_does_not_stall_the_queue);
        tcase_add_test(tc, test_restart_budget_within_its_window);
        tcase_add_test(tc, test_hold_and_release);
        tcase_add_test(tc, test_a_job_that_never_started_frees_its_slot);
        tcase_add_test(tc, test_gates_window_and_pause);
        tcase_add_test(tc, test_a_gated_container_still_blocks_its_dependants);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(sched_suite)
