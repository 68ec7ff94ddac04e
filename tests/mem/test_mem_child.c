/* Classification of a real process: tests/targets/mem_child lays out
 * memory of known sizes in every category, and the readers must put each
 * region in the right category with the right size.
 *
 * Exact to the page: the explicit anonymous mmap, the mapped file, the
 * memfd and /dev/shm mappings (start, size and resident bytes), and each
 * thread stack (its mapping is exactly the stack glibc reports, its guard
 * page is a stack too). Tolerances, stated per check: the [heap], the
 * arena and each stack hold at most 64 KiB more than the child touched
 * (malloc's own chunk headers and stdio buffer; a thread's TLS and
 * frames; measured: 8 KiB, 4 KiB, 8 KiB); the large malloc's mapping
 * may be merged by the kernel with an adjacent anonymous mapping (64 KiB).
 * Also checked here: a vanished process
 * (-ESRCH), a zombie, and `oomkit inspect` on the child (text and JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oomkit/mem.h"

#define MIB(x) ((uint64_t)(x) << 20)
#define KIB(x) ((uint64_t)(x) << 10)

struct region {
    char kind[16];
    uint64_t addr, size, touched, low;
};

struct child {
    pid_t pid;
    int in_fd;  /* child's stdin: closing it ends the child */
    struct region r[32];
    int n;
};

static int spawn_child(struct child *c)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(MEM_CHILD_PATH, "mem_child", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->in_fd = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[256];
    c->n = 0;
    int ready = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "ready", 5) == 0) {
            ready = 1;
            break;
        }
        struct region *r = &c->r[c->n];
        unsigned long long a, b, s, t;
        if (strncmp(line, "stack ", 6) == 0 &&
            sscanf(line + 6, "%llx %llx %llu %llu", &a, &b, &s, &t) == 4) {
            snprintf(r->kind, sizeof r->kind, "stack");
            r->addr = a;
            r->low = b;
            r->size = s;
            r->touched = t;
            c->n++;
        } else if (sscanf(line, "%15s %llx %llu %llu", r->kind, &a, &s, &t) == 4) {
            r->addr = a;
            r->size = s;
            r->touched = t;
            r->low = 0;
            c->n++;
        }
    }
    fclose(f);
    return ready ? 0 : -1;
}

static int stop_child(struct child *c)
{
    close(c->in_fd);
    int st = 0;
    waitpid(c->pid, &st, 0);
    return st;
}

static const oomkit_mem_mapping *find(const oomkit_mem_maps *maps, uint64_t addr, size_t *idx)
{
    for (size_t i = 0; i < oomkit_mem_maps_count(maps); i++) {
        const oomkit_mem_mapping *m = oomkit_mem_maps_get(maps, i);
        if (addr >= m->start && addr < m->end) {
            if (idx)
                *idx = i;
            return m;
        }
    }
    return NULL;
}

static void check_exact(const oomkit_mem_maps *maps, const struct region *r, int cat)
{
    const oomkit_mem_mapping *m = find(maps, r->addr, NULL);
    assert_non_null(m);
    printf("  %-9s %#llx size %llu rss %llu category %s\n", r->kind,
           (unsigned long long)m->start, (unsigned long long)(m->end - m->start),
           (unsigned long long)m->f.rss_bytes, oomkit_mem_category_name(m->category));
    assert_int_equal(m->category, cat);
    assert_int_equal(m->start, r->addr);
    assert_int_equal(m->end - m->start, r->size);
    assert_int_equal(m->f.rss_bytes, r->touched);
}

static void check_within(const oomkit_mem_maps *maps, const struct region *r, int cat,
                         uint64_t slack)
{
    const oomkit_mem_mapping *m = find(maps, r->addr, NULL);
    assert_non_null(m);
    printf("  %-9s %#llx size %llu rss %llu category %s (touched %llu, slack %llu)\n",
           r->kind, (unsigned long long)m->start, (unsigned long long)(m->end - m->start),
           (unsigned long long)m->f.rss_bytes, oomkit_mem_category_name(m->category),
           (unsigned long long)r->touched, (unsigned long long)slack);
    assert_int_equal(m->category, cat);
    assert_true(m->f.rss_bytes >= r->touched);
    assert_true(m->f.rss_bytes <= r->touched + slack);
}

static void test_child_categories(void **state)
{
    (void)state;
    struct child c;
    assert_int_equal(spawn_child(&c), 0);
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(NULL, &ctx), 0);
    oomkit_mem_breakdown b;
    oomkit_mem_maps *maps = NULL;
    uint64_t threads = 0;
    assert_int_equal(oomkit_mem_breakdown_read(ctx, c.pid, &b, &maps, &threads), 0);
    assert_int_equal(threads, 4);

    int seen_stacks = 0, seen_arena = 0, seen_shm = 0;
    for (int i = 0; i < c.n; i++) {
        const struct region *r = &c.r[i];
        if (!strcmp(r->kind, "heap")) {
            const oomkit_mem_mapping *m = find(maps, r->addr, NULL);
            assert_non_null(m);
            assert_int_equal(m->path.len, 6);
            assert_memory_equal(m->path.ptr, "[heap]", 6);
            check_within(maps, r, OOMKIT_MEM_CAT_HEAP, KIB(64));
        } else if (!strcmp(r->kind, "arena")) {
            check_within(maps, r, OOMKIT_MEM_CAT_HEAP, KIB(64));
            seen_arena = 1;
        } else if (!strcmp(r->kind, "bigmalloc")) {
            /* malloc's chunk header makes the mapping one page longer, and
             * the kernel may merge it with an adjacent anonymous mapping of
             * the same flags (a few pages of libc's or the loader's). */
            check_within(maps, r, OOMKIT_MEM_CAT_ANON_MMAP, KIB(64));
        } else if (!strcmp(r->kind, "anon")) {
            check_exact(maps, r, OOMKIT_MEM_CAT_ANON_MMAP);
        } else if (!strcmp(r->kind, "file")) {
            check_exact(maps, r, OOMKIT_MEM_CAT_FILE);
        } else if (!strcmp(r->kind, "memfd") || !strcmp(r->kind, "shm")) {
            check_exact(maps, r, OOMKIT_MEM_CAT_SHMEM);
            seen_shm += !strcmp(r->kind, "shm");
        } else if (!strcmp(r->kind, "stack")) {
            size_t idx = 0;
            const oomkit_mem_mapping *m = find(maps, r->addr, &idx);
            assert_non_null(m);
            check_within(maps, r, OOMKIT_MEM_CAT_STACKS, KIB(64));
            /* Exact: the mapping is the stack glibc reports. */
            assert_int_equal(m->start, r->low);
            assert_int_equal(m->end - m->start, r->size);
            /* Its guard page directly below is a stack too. */
            assert_true(idx > 0);
            const oomkit_mem_mapping *g = oomkit_mem_maps_get(maps, idx - 1);
            assert_int_equal(g->end, m->start);
            assert_string_equal(g->perms, "---p");
            assert_int_equal(g->category, OOMKIT_MEM_CAT_STACKS);
            seen_stacks++;
        }
    }
    assert_int_equal(seen_stacks, 3);
    assert_true(seen_arena);
    if (!seen_shm)
        printf("note: /dev/shm not writable here; shm region not checked\n");
    /* The three threads sleep in read(2), so all are found by their stack
     * pointer (the main thread may still be running towards its read and
     * show no pointer; its [stack] is named anyway). */
    printf("stacks by sp %llu, by guard %llu\n", (unsigned long long)b.stacks_by_sp,
           (unsigned long long)b.stacks_by_guard);
    assert_true(b.stacks_by_sp >= 3);
    assert_true(b.arenas >= 1);
    /* Category totals hold at least what the child put there. */
    assert_true(b.cat[OOMKIT_MEM_CAT_HEAP].rss_bytes >= MIB(8) + MIB(3));
    assert_true(b.cat[OOMKIT_MEM_CAT_STACKS].rss_bytes >= 3 * MIB(2));
    assert_true(b.cat[OOMKIT_MEM_CAT_ANON_MMAP].rss_bytes >= MIB(34) + MIB(12));
    assert_true(b.cat[OOMKIT_MEM_CAT_FILE].rss_bytes >= MIB(8));
    assert_true(b.cat[OOMKIT_MEM_CAT_SHMEM].rss_bytes >= MIB(4));
    /* And the categories add up to the kernel's own rollup (idle child;
     * 1 % for pages that change between the two reads). */
    oomkit_mem_smaps_fields roll;
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, c.pid, &roll), 0);
    uint64_t diff = roll.rss_bytes > b.total.rss_bytes ? roll.rss_bytes - b.total.rss_bytes
                                                       : b.total.rss_bytes - roll.rss_bytes;
    assert_true(diff <= roll.rss_bytes / 100);
    oomkit_mem_maps_free(maps);

    /* oomkit inspect --json on the same child. */
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/oomkit inspect %d --json", bin ? bin : ".", (int)c.pid);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char json[1 << 20];
    size_t len = fread(json, 1, sizeof json - 1, p);
    json[len] = '\0';
    assert_int_equal(pclose(p), 0);
    json_object *root = json_tokener_parse(json);
    assert_non_null(root);
    json_object *v, *cats, *cat;
    assert_true(json_object_object_get_ex(root, "pid", &v));
    assert_int_equal(json_object_get_int(v), c.pid);
    assert_true(json_object_object_get_ex(root, "threads", &v));
    assert_int_equal(json_object_get_int(v), 4);
    assert_true(json_object_object_get_ex(root, "categories", &cats));
    assert_true(json_object_object_get_ex(cats, "anon_mmap", &cat));
    assert_true(json_object_object_get_ex(cat, "rss_bytes", &v));
    assert_true((uint64_t)json_object_get_int64(v) >= MIB(46));
    assert_true(json_object_object_get_ex(cats, "stacks", &cat));
    assert_true(json_object_object_get_ex(cat, "rss_bytes", &v));
    assert_true((uint64_t)json_object_get_int64(v) >= MIB(6));
    assert_true(json_object_object_get_ex(cats, "heap", &cat));
    assert_true(json_object_object_get_ex(cat, "mappings", &v));
    assert_true(json_object_get_int(v) >= 2);
    assert_true(json_object_object_get_ex(root, "cgroup", &v));
    json_object_put(root);

    assert_int_equal(stop_child(&c), 0);
    /* The child is gone and reaped: a clean -ESRCH. */
    oomkit_mem_status st;
    assert_int_equal(oomkit_mem_status_read(ctx, c.pid, &st), -ESRCH);
    assert_int_equal(oomkit_mem_breakdown_read(ctx, c.pid, &b, NULL, NULL), -ESRCH);
    snprintf(cmd, sizeof cmd, "%s/oomkit inspect %d >/dev/null 2>&1", bin ? bin : ".",
             (int)c.pid);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 10); /* no such process */
    oomkit_mem_ctx_close(ctx);
}

static void test_zombie(void **state)
{
    (void)state;
    pid_t z = fork();
    if (z == 0)
        _exit(0);
    /* Wait until it is a zombie (not reaped). */
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(NULL, &ctx), 0);
    oomkit_mem_status st;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(oomkit_mem_status_read(ctx, z, &st), 0);
        if (st.state == 'Z')
            break;
        usleep(10000);
    }
    assert_int_equal(st.state, 'Z');
    oomkit_mem_smaps_fields f;
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, z, &f), 0);
    assert_int_equal(f.rss_bytes, OOMKIT_MEM_ABSENT);
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/oomkit inspect %d >/dev/null 2>&1", bin ? bin : ".", (int)z);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 11); /* zombie */
    waitpid(z, NULL, 0);
    oomkit_mem_ctx_close(ctx);
}

struct killer {
    pid_t pid;
    useconds_t delay_us;
};

static void *kill_later(void *arg)
{
    struct killer *k = arg;
    usleep(k->delay_us);
    kill(k->pid, SIGKILL);
    waitpid(k->pid, NULL, 0); /* reaped: /proc/PID goes away */
    return NULL;
}

/* A process killed while its smaps is being read: the read either
 * completes before the kill (every mapping) or reports -ESRCH, never a
 * partial list as a success. Several delays, so some kills land mid-read. */
static void test_exit_mid_read(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(NULL, &ctx), 0);
    int completed = 0, vanished = 0;
    for (int round = 0; round < 6; round++) {
        int in[2], out[2];
        assert_int_equal(pipe(in), 0);
        assert_int_equal(pipe(out), 0);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            execl(MEM_MANY_MAPS_PATH, "mem_many_maps", "4000", (char *)NULL);
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        FILE *f = fdopen(out[0], "r");
        char line[64];
        int ready = 0;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "ready", 5) == 0) {
                ready = 1;
                break;
            }
        fclose(f);
        assert_true(ready);
        static const useconds_t delays_us[6] = { 0, 2000, 5000, 10000, 30000, 300000 };
        struct killer k = { pid, delays_us[round] };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
        oomkit_mem_maps *maps = NULL;
        int rc = oomkit_mem_maps_read(ctx, pid, OOMKIT_MEM_MAPS_SMAPS, &maps);
        if (rc == 0) {
            assert_true(oomkit_mem_maps_count(maps) >= 4000);
            oomkit_mem_maps_free(maps);
            completed++;
        } else {
            assert_int_equal(rc, -ESRCH);
            vanished++;
        }
        pthread_join(t, NULL);
        close(in[1]);
    }
    printf("exit mid-read: %d complete reads, %d reported -ESRCH\n", completed, vanished);
    oomkit_mem_ctx_close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_categories),
        cmocka_unit_test(test_zombie),
        cmocka_unit_test(test_exit_mid_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
