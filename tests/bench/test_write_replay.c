/* The write-latency phase's replay (bench/store/harness.c): a write over
 * 1 ms with neither a page fault nor a preemption is timed again when the
 * same writes run on a fresh structure. A structure whose own step is slow
 * is slow there again; a pause that does not recur is the machine's. Here a
 * fake structure makes one write slow on purpose, in every run or in the
 * first only, or sleeps in it, or waits in it by its own count (in the
 * first run only), or takes a page fault in it in the replay, and the
 * report's verdict must follow. */
#include "bench/store/harness.h"
#include "bench/store/report.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cmocka.h>

/* The write made slow: one in the middle of the build. */
#define SLOW_WRITE 40
#define SLOW_NS 3000000ull

enum slowness { NEVER, EVERY_RUN, FIRST_RUN_ONLY, ASLEEP, COUNTED_WAIT, FAULTING_IN_REPLAY };

static enum slowness mode;
static uint64_t waits;         /* the fake's own count of waits for readers */
static unsigned runs;          /* structures opened so far */
static uint64_t writes_in_run; /* writes of the current structure */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every write goes through here: the slow one spins (its own work, no
 * fault, no switch; counted as a wait for readers in COUNTED_WAIT) or
 * sleeps (a voluntary switch). */
static void fake_write(void)
{
    if (writes_in_run++ != SLOW_WRITE)
        return;
    if (mode == ASLEEP) {
        struct timespec ts = { 0, (long)SLOW_NS };
        nanosleep(&ts, NULL);
    } else if (mode == EVERY_RUN || mode == FAULTING_IN_REPLAY ||
               ((mode == FIRST_RUN_ONLY || mode == COUNTED_WAIT) && runs == 1)) {
        waits += mode == COUNTED_WAIT;
        uint64_t end = now_ns() + SLOW_NS;
        while (now_ns() < end) {
        }
    }
    if (mode == FAULTING_IN_REPLAY && runs == 2) {
        /* A first touch of a fresh page: a page fault. */
        char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(page != MAP_FAILED);
        ((volatile char *)page)[0] = 1;
        munmap(page, 4096);
    }
}

static void *fake_open(void)
{
    static int token;
    runs++;
    writes_in_run = 0;
    return &token;
}

static int fake_put(void *s, const struct wl_ref *r, int64_t value)
{
    (void)s, (void)r, (void)value;
    fake_write();
    return 0;
}

static int fake_del_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    (void)s, (void)w, (void)obj;
    fake_write();
    return 0;
}

static void fake_close(void *s)
{
    (void)s;
}

static uint64_t fake_writer_waits(void *s)
{
    (void)s;
    return waits;
}

static const struct peer_ops fake = {
    .name = "oomkit-store",
    .idea = "a structure with one slow write, on purpose",
    .open = fake_open,
    .put = fake_put,
    .del_object = fake_del_object,
    .close = fake_close,
    .writer_waits = fake_writer_waits,
};

static struct wl_workload workload;

static int load_workload(void **state)
{
    (void)state;
    /* 20 objects of 3 fields: 60 puts, then 20 deletes with 60 puts. */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    for (int o = 0; o < 20; o++)
        for (int k = 0; k < 3; k++)
            len += (size_t)snprintf(buf + len, cap - len, "default\tpod-%d\tkey-%d\t%d\n", o, k,
                                    o * 3 + k);
    char err[256];
    if (wl_parse(&workload, buf, len, "inline", err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int free_workload(void **state)
{
    (void)state;
    wl_free(&workload);
    return 0;
}

/* Runs the write phase until the slow write counted as the structure's own
 * and its replay was not interrupted (a busy machine can take the CPU away
 * during the spin, which makes it a preemption instead); fails the test
 * after a few tries. */
static struct bench_result run_phase(enum slowness m)
{
    struct bench_result out;
    for (int attempt = 0; attempt < 8; attempt++) {
        memset(&out, 0, sizeof(out));
        snprintf(out.name, sizeof(out.name), "%s", fake.name);
        mode = m;
        runs = 0;
        char err[256] = "";
        assert_int_equal(bench_writes(&fake, &workload, &out, err, sizeof(err)), 0);
        uint64_t own = out.writes_over_1ms - out.writes_over_1ms_faulted -
                       out.writes_over_1ms_preempted;
        /* Every such write is replayed (or counted as not), and the phase
         * ran a second time exactly when there was one. */
        assert_int_equal(out.writes_replayed + out.writes_not_replayed, own);
        assert_int_equal(runs, own > 0 ? 2u : 1u);
        /* A spin that lost its CPU in the replay says nothing either;
         * only FAULTING_IN_REPLAY wants the replay interrupted. */
        int replay_clean = m == FAULTING_IN_REPLAY || out.writes_replay_interrupted == 0;
        if (m == NEVER || (own > 0 && replay_clean))
            return out;
    }
    fail_msg("the slow write or its replay lost the CPU in each of 8 tries");
    return out;
}

/* The Markdown row of the own-work target. */
static char *own_work_row(const struct bench_result *row)
{
    static struct report r;
    memset(&r, 0, sizeof(r));
    r.w = &workload;
    r.source = "inline";
    r.cpu = -1;
    r.rows[0] = *row;
    r.n_rows = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    report_markdown(&r, out);
    fclose(out);
    char *line = strstr(text, "| no write over 1 ms outside a page fault or a preemption");
    assert_non_null(line);
    char *end = strchr(line, '\n');
    assert_non_null(end);
    *end = '\0';
    char *copy = strdup(line);
    free(text);
    return copy;
}

static void test_a_slow_step_of_its_own_recurs(void **state)
{
    (void)state;
    struct bench_result out = run_phase(EVERY_RUN);
    assert_true(out.writes_replayed >= 1);
    assert_true(out.writes_over_1ms_twice >= 1);
    assert_true(out.worst_replayed_write_us >= 1000);
    char *row = own_work_row(&out);
    assert_non_null(strstr(row, "over 1 ms again"));
    assert_non_null(strstr(row, "| **no** |"));
    free(row);
}

static void test_a_pause_that_does_not_recur_is_the_machines(void **state)
{
    (void)state;
    struct bench_result out = run_phase(FIRST_RUN_ONLY);
    assert_true(out.writes_replayed >= 1);
    assert_int_equal(out.writes_over_1ms_twice, 0);
    assert_true(out.worst_replayed_write_us < 1000);
    assert_true(out.worst_uninterrupted_write_us >= SLOW_NS / 1000);
    char *row = own_work_row(&out);
    assert_non_null(strstr(row, "| yes: none was slow again"));
    free(row);
}

/* A write slow again inside a page fault in the replay could be slow for
 * either reason: it does not clear the first run's slow write. */
static void test_a_replay_inside_a_fault_clears_nothing(void **state)
{
    (void)state;
    struct bench_result out = run_phase(FAULTING_IN_REPLAY);
    assert_true(out.writes_replay_interrupted >= 1);
    char *row = own_work_row(&out);
    assert_non_null(strstr(row, "slow again inside a page fault or a preemption"));
    assert_non_null(strstr(row, "| **no** |"));
    free(row);
}

static void test_a_write_that_sleeps_is_its_own_wait(void **state)
{
    (void)state;
    struct bench_result out = run_phase(ASLEEP);
    assert_true(out.writes_over_1ms_waited >= 1);
    assert_int_equal(out.writes_over_1ms_reader_waits, 0);
    char *row = own_work_row(&out);
    assert_non_null(strstr(row, "waiting (0 for readers, the rest asleep)"));
    assert_non_null(strstr(row, "| **no** |"));
    free(row);
}

/* A wait for readers can spin (membarrier on another CPU) and not recur in
 * the replay: the structure's own count still makes it its own. */
static void test_a_counted_wait_is_its_own_however_fast_the_replay(void **state)
{
    (void)state;
    struct bench_result out = run_phase(COUNTED_WAIT);
    assert_int_equal(out.writes_over_1ms_waited, 1);
    assert_int_equal(out.writes_over_1ms_reader_waits, 1);
    assert_int_equal(out.writes_over_1ms_twice, 0);
    char *row = own_work_row(&out);
    assert_non_null(strstr(row, "| **no** |"));
    free(row);
}

static void test_every_write_timed(void **state)
{
    (void)state;
    struct bench_result out = run_phase(NEVER);
    /* 60 puts in the build; the churn deletes 20 objects (random, with
     * repeats) and puts back each one's 3 fields. */
    assert_int_equal(out.writes_timed, 60 + 20 * 4);
    assert_true(out.worst_write_us > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_slow_step_of_its_own_recurs),
        cmocka_unit_test(test_a_pause_that_does_not_recur_is_the_machines),
        cmocka_unit_test(test_a_replay_inside_a_fault_clears_nothing),
        cmocka_unit_test(test_a_write_that_sleeps_is_its_own_wait),
        cmocka_unit_test(test_a_counted_wait_is_its_own_however_fast_the_replay),
        cmocka_unit_test(test_every_write_timed),
    };
    return cmocka_run_group_tests(tests, load_workload, free_workload);
}
