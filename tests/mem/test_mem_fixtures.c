/* Fixture tests for the mem readers: /proc files of a 6.x kernel (k6) and a
 * 3.10-era kernel (k3), and cgroup v1 / v2 trees, under tests/fixtures/.
 * Every expected value is worked out by hand from the fixture text (the
 * comments show the arithmetic), so a parser change that misreads a field
 * fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/mem_internal.h"

#define KIB(x) ((uint64_t)(x) * 1024u)
#define MIB(x) ((uint64_t)(x) << 20)

static oomkit_mem_ctx *open_fixture(const char *rel)
{
    const char *src = getenv("OOMKIT_SOURCE_DIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/tests/fixtures/%s", src ? src : ".", rel);
    oomkit_mem_options o = { .root = root };
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(&o, &ctx), 0);
    return ctx;
}

static uint64_t page(void)
{
    return (uint64_t)sysconf(_SC_PAGESIZE);
}

static void test_status(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_status st;
    assert_int_equal(oomkit_mem_status_read(ctx, 1234, &st), 0);
    assert_string_equal(st.name, "app worker");
    assert_int_equal(st.state, 'S');
    assert_int_equal(st.tgid, 1234);
    assert_int_equal(st.ppid, 1);
    assert_int_equal(st.uid_real, 1000);
    assert_int_equal(st.threads, 3);
    assert_int_equal(st.vm_rss_bytes, KIB(34884));
    assert_int_equal(st.rss_anon_bytes, KIB(28096));
    assert_int_equal(st.rss_shmem_bytes, KIB(5120));
    assert_int_equal(st.vm_swap_bytes, KIB(512));
    assert_int_equal(st.vm_stk_bytes, KIB(132));
    assert_int_equal(st.huge_tlb_pages_bytes, 0);
    oomkit_mem_ctx_close(ctx);

    /* 3.10 had no RssAnon/RssFile/RssShmem (added in 4.5): absent, not 0. */
    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_status_read(ctx, 77, &st), 0);
    assert_string_equal(st.name, "oldapp");
    assert_int_equal(st.vm_rss_bytes, KIB(11336));
    assert_int_equal(st.rss_anon_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(st.rss_file_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(st.huge_tlb_pages_bytes, OOMKIT_MEM_ABSENT);
    oomkit_mem_ctx_close(ctx);
}

static void test_statm_and_stat(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_statm sm;
    assert_int_equal(oomkit_mem_statm_read(ctx, 1234, &sm), 0);
    assert_int_equal(sm.size_bytes, 42112 * page());
    assert_int_equal(sm.resident_bytes, 8712 * page());
    assert_int_equal(sm.shared_bytes, 1720 * page());
    assert_int_equal(sm.text_bytes, 14 * page());
    assert_int_equal(sm.data_bytes, 15393 * page());

    oomkit_mem_pstat ps;
    assert_int_equal(oomkit_mem_pstat_read(ctx, 1234, 0, &ps), 0);
    assert_int_equal(ps.pid, 1234);
    assert_string_equal(ps.comm, "app (v2) x"); /* comm with ')' inside */
    assert_int_equal(ps.state, 'S');
    assert_int_equal(ps.ppid, 1);
    assert_int_equal(ps.minflt, 5120);
    assert_int_equal(ps.majflt, 7);
    assert_int_equal(ps.utime_ticks, 250);
    assert_int_equal(ps.stime_ticks, 31);
    assert_int_equal(ps.num_threads, 3);
    assert_int_equal(ps.starttime_ticks, 98765);
    assert_int_equal(ps.vsize_bytes, 172490752);
    assert_int_equal(ps.rss_bytes, 8712 * page());
    assert_int_equal(ps.kstkesp, 0);
    assert_int_equal(oomkit_mem_pstat_read(ctx, 1234, 1241, &ps), 0);
    assert_int_equal(ps.pid, 1241);
    assert_int_equal(ps.state, 'R');
    oomkit_mem_ctx_close(ctx);

    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_statm_read(ctx, 77, &sm), 0);
    assert_int_equal(sm.resident_bytes, 2834 * page());
    assert_int_equal(oomkit_mem_pstat_read(ctx, 77, 0, &ps), 0);
    assert_string_equal(ps.comm, "oldapp");
    assert_int_equal(ps.rss_bytes, 2834 * page());
    assert_int_equal(ps.vsize_bytes, 19456000);
    oomkit_mem_ctx_close(ctx);
}

static void test_rollup(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_smaps_fields f;
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, 1234, &f), 0);
    assert_int_equal(f.rss_bytes, KIB(34884));
    assert_int_equal(f.pss_bytes, KIB(32968));
    assert_int_equal(f.pss_anon_bytes, KIB(28032));
    assert_int_equal(f.pss_file_bytes, KIB(264));
    assert_int_equal(f.pss_shmem_bytes, KIB(4608));
    assert_int_equal(f.pss_dirty_bytes, KIB(28032));
    assert_int_equal(f.swap_bytes, KIB(512));
    assert_int_equal(f.size_bytes, OOMKIT_MEM_ABSENT); /* rollup has no Size */
    /* A zombie has no mm: empty file, every field absent. */
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, 999, &f), 0);
    assert_int_equal(f.rss_bytes, OOMKIT_MEM_ABSENT);
    oomkit_mem_status st;
    assert_int_equal(oomkit_mem_status_read(ctx, 999, &st), 0);
    assert_int_equal(st.state, 'Z');
    oomkit_mem_ctx_close(ctx);

    /* No smaps_rollup before 4.14: the process exists, so -ENOENT. */
    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, 77, &f), -ENOENT);
    assert_string_equal(oomkit_mem_ctx_last_path(ctx), "/proc/77/smaps_rollup");
    oomkit_mem_ctx_close(ctx);
}

static void test_smaps(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_maps *maps = NULL;
    assert_int_equal(oomkit_mem_maps_read(ctx, 1234, OOMKIT_MEM_MAPS_SMAPS, &maps), 0);
    assert_int_equal(oomkit_mem_maps_count(maps), 17);
    const oomkit_mem_mapping *m = oomkit_mem_maps_get(maps, 2);
    assert_non_null(m);
    assert_int_equal(m->start, 0x55d4c3000000);
    assert_int_equal(m->end, 0x55d4c3400000);
    assert_string_equal(m->perms, "rw-p");
    assert_int_equal(m->path.len, 6);
    assert_memory_equal(m->path.ptr, "[heap]", 6);
    assert_int_equal(m->f.size_bytes, MIB(4));
    assert_int_equal(m->f.rss_bytes, KIB(3072));
    assert_int_equal(m->f.swap_bytes, KIB(512));
    assert_int_equal(m->f.pss_dirty_bytes, KIB(3072));
    assert_int_equal(m->f.pss_anon_bytes, OOMKIT_MEM_ABSENT); /* rollup only */
    m = oomkit_mem_maps_get(maps, 8);
    assert_int_equal(m->path.len, strlen("/memfd:jit (deleted)"));
    assert_memory_equal(m->path.ptr, "/memfd:jit (deleted)", m->path.len);
    assert_int_equal(m->inode, 2048);
    assert_int_equal(m->dev_major, 0);
    assert_int_equal(m->dev_minor, 1);
    m = oomkit_mem_maps_get(maps, 1);
    assert_int_equal(m->offset, 0x2000);
    assert_int_equal(m->dev_major, 8);
    m = oomkit_mem_maps_get(maps, 3);
    assert_int_equal(m->path.len, 0);
    m = oomkit_mem_maps_get(maps, 16);
    assert_int_equal(m->start, 0xffffffffff600000);
    assert_null(oomkit_mem_maps_get(maps, 17));
    oomkit_mem_maps_free(maps);

    assert_int_equal(oomkit_mem_maps_read(ctx, 1234, OOMKIT_MEM_MAPS_PLAIN, &maps), 0);
    assert_int_equal(oomkit_mem_maps_count(maps), 17);
    assert_int_equal(oomkit_mem_maps_get(maps, 2)->f.rss_bytes, OOMKIT_MEM_ABSENT);
    oomkit_mem_maps_free(maps);
    oomkit_mem_ctx_close(ctx);

    /* Older smaps: no Pss_Dirty, KSM, LazyFree, THPeligible. */
    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_maps_read(ctx, 77, OOMKIT_MEM_MAPS_SMAPS, &maps), 0);
    assert_int_equal(oomkit_mem_maps_count(maps), 4);
    m = oomkit_mem_maps_get(maps, 1);
    assert_int_equal(m->f.rss_bytes, KIB(3072));
    assert_int_equal(m->f.pss_dirty_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(m->f.lazyfree_bytes, OOMKIT_MEM_ABSENT);
    oomkit_mem_maps_free(maps);
    oomkit_mem_ctx_close(ctx);
}

/* The streaming reader must give exactly what a whole-buffer parse gives,
 * whatever the chunk boundaries cut: a generated smaps of ~1.5 MB (many
 * 256 KiB chunks, lines split at every offset over the copies) read through
 * a temporary root, compared field by field. */
static void test_smaps_chunk_boundaries(void **state)
{
    (void)state;
    const char *src = getenv("OOMKIT_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/proc/k6/proc/1234/smaps", src ? src : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char one[64 * 1024];
    size_t n1 = fread(one, 1, sizeof one, f);
    fclose(f);
    assert_true(n1 > 1000);

    const char *tmpdir = getenv("TMPDIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/oomkit-mem-chunks-%d", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (int)getpid());
    assert_int_equal(mkdir(root, 0700), 0);
    char dir[4200], file[4300];
    snprintf(dir, sizeof dir, "%s/proc", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s/proc/1", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/smaps", dir);
    f = fopen(file, "w");
    assert_non_null(f);
    /* Copies of the fixture with a growing path so line offsets drift. */
    size_t total = 0;
    char *big = malloc(2u << 20);
    assert_non_null(big);
    for (int copy = 0; total + n1 + 64 < (2u << 20) - 4096 && copy < 1500; copy++) {
        memcpy(big + total, one, n1);
        total += n1;
        total += (size_t)snprintf(big + total, 64, "%x-%x rw-p 00000000 00:00 0 /x%0*d\n",
                                  0x1000 * (copy + 1), 0x1000 * (copy + 2), copy % 40, 0);
    }
    assert_int_equal(fwrite(big, 1, total, f), total);
    fclose(f);

    oomkit_mem_options o = { .root = root };
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(&o, &ctx), 0);
    oomkit_mem_maps *a = NULL, *b = NULL;
    assert_int_equal(oomkit_mem_maps_read(ctx, 1, OOMKIT_MEM_MAPS_SMAPS, &a), 0);
    assert_int_equal(oomkit__maps_parse_buffer(big, total, &b), 0);
    assert_true(oomkit_mem_maps_count(a) > 1000);
    assert_int_equal(oomkit_mem_maps_count(a), oomkit_mem_maps_count(b));
    for (size_t i = 0; i < oomkit_mem_maps_count(a); i++) {
        const oomkit_mem_mapping *x = oomkit_mem_maps_get(a, i), *y = oomkit_mem_maps_get(b, i);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->path.len, y->path.len);
        if (x->path.len)
            assert_memory_equal(x->path.ptr, y->path.ptr, x->path.len);
        assert_memory_equal(&x->f, &y->f, sizeof x->f);
    }
    /* Spot check one value in a late copy. */
    const oomkit_mem_mapping *heap = oomkit_mem_maps_get(a, oomkit_mem_maps_count(a) - 16);
    assert_int_equal(heap->f.rss_bytes, KIB(3072));
    oomkit_mem_maps_free(a);
    oomkit_mem_maps_free(b);
    oomkit_mem_ctx_close(ctx);
    free(big);
    unlink(file);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/proc", root);
    rmdir(dir);
    rmdir(root);
}

static void test_threads_and_breakdown(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    pid_t tids[8];
    size_t n = 0;
    assert_int_equal(oomkit_mem_threads_list(ctx, 1234, tids, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(oomkit_mem_threads_list(ctx, 1234, tids, 1, &n), 0);
    assert_int_equal(n, 3); /* the full count even when cap is smaller */

    uint64_t sp = 0;
    assert_int_equal(oomkit_mem_thread_sp(ctx, 1234, 1234, &sp), 0);
    assert_int_equal(sp, 0x7ffd1001eff0);
    assert_int_equal(oomkit_mem_thread_sp(ctx, 1234, 1240, &sp), 0);
    assert_int_equal(sp, 0x7f1c207ffe40);
    assert_int_equal(oomkit_mem_thread_sp(ctx, 1234, 1241, &sp), -ENODATA);

    oomkit_mem_breakdown b;
    uint64_t threads = 0;
    oomkit_mem_maps *maps = NULL;
    assert_int_equal(oomkit_mem_breakdown_read(ctx, 1234, &b, &maps, &threads), 0);
    assert_int_equal(threads, 3);
    /* heap: [heap] 3072 + arena rw 16384 + arena remainder 0 kB. */
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_HEAP].rss_bytes, KIB(3072 + 16384));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_HEAP].swap_bytes, KIB(512));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_HEAP].mappings, 3);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_HEAP].size_bytes, MIB(4) + MIB(64));
    assert_int_equal(b.arenas, 1);
    /* stacks: thread 1240 (by sp) 256 + guard, [stack] 64, thread 1241
     * (running: by guard shape) 128 + guard. */
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_STACKS].rss_bytes, KIB(256 + 64 + 128));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_STACKS].mappings, 5);
    assert_int_equal(b.stacks_by_sp, 2);
    assert_int_equal(b.stacks_by_guard, 1);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_ANON_MMAP].rss_bytes, KIB(8192));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_ANON_MMAP].mappings, 1);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_FILE].rss_bytes, KIB(8 + 56 + 1600));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_FILE].pss_bytes, KIB(8 + 56 + 200));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_FILE].mappings, 3);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_SHMEM].rss_bytes, KIB(4096 + 1024));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_SHMEM].pss_bytes, KIB(4096 + 512));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_SHMEM].mappings, 2);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_OTHER].rss_bytes, KIB(4));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_OTHER].mappings, 3);
    /* The categories add up to smaps_rollup's totals. */
    assert_int_equal(b.total.rss_bytes, KIB(34884));
    assert_int_equal(b.total.pss_bytes, KIB(32968));
    assert_int_equal(b.total.mappings, 17);
    assert_int_equal(oomkit_mem_maps_get(maps, 6)->category, OOMKIT_MEM_CAT_STACKS);
    assert_int_equal(oomkit_mem_maps_get(maps, 4)->category, OOMKIT_MEM_CAT_HEAP);
    oomkit_mem_maps_free(maps);

    /* Without stack pointers and without the guess, thread stacks are plain
     * anonymous mappings: only [stack] stays a stack. */
    assert_int_equal(oomkit_mem_maps_read(ctx, 1234, OOMKIT_MEM_MAPS_SMAPS, &maps), 0);
    assert_int_equal(oomkit_mem_classify(maps, NULL, 0, 0, &b), 0);
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_STACKS].rss_bytes, KIB(64));
    assert_int_equal(b.cat[OOMKIT_MEM_CAT_ANON_MMAP].rss_bytes, KIB(8192 + 256 + 128));
    oomkit_mem_maps_free(maps);
    oomkit_mem_ctx_close(ctx);
}

static void test_vanished_and_denied(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_status st;
    oomkit_mem_maps *maps = NULL;
    oomkit_mem_smaps_fields f;
    assert_int_equal(oomkit_mem_status_read(ctx, 5555, &st), -ESRCH);
    assert_int_equal(oomkit_mem_maps_read(ctx, 5555, OOMKIT_MEM_MAPS_SMAPS, &maps), -ESRCH);
    assert_int_equal(oomkit_mem_smaps_rollup_read(ctx, 5555, &f), -ESRCH);
    size_t n;
    assert_int_equal(oomkit_mem_threads_list(ctx, 5555, NULL, 0, &n), -ESRCH);
    oomkit_mem_ctx_close(ctx);
}

static int deny_smaps(const char *path)
{
    size_t n = strlen(path);
    return (n >= 6 && strcmp(path + n - 6, "/smaps") == 0) ? -EACCES : 0;
}

static void test_eacces_names_file(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit__mem_sys_fault = deny_smaps;
    oomkit_mem_maps *maps = NULL;
    oomkit_mem_breakdown b;
    assert_int_equal(oomkit_mem_maps_read(ctx, 1234, OOMKIT_MEM_MAPS_SMAPS, &maps), -EACCES);
    assert_string_equal(oomkit_mem_ctx_last_path(ctx), "/proc/1234/smaps");
    assert_int_equal(oomkit_mem_breakdown_read(ctx, 1234, &b, NULL, NULL), -EACCES);
    oomkit_mem_status st;
    assert_int_equal(oomkit_mem_status_read(ctx, 1234, &st), 0); /* others fine */
    oomkit__mem_sys_fault = NULL;
    oomkit_mem_ctx_close(ctx);
}

static void test_meminfo_psi(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("proc/k6");
    oomkit_mem_meminfo mi;
    assert_int_equal(oomkit_mem_meminfo_read(ctx, &mi), 0);
    assert_int_equal(mi.mem_total_bytes, KIB(24681224));
    assert_int_equal(mi.mem_available_bytes, KIB(23009876));
    assert_int_equal(mi.inactive_file_bytes, KIB(2050000));
    assert_int_equal(mi.active_anon_bytes, KIB(400000));
    assert_int_equal(mi.kreclaimable_bytes, KIB(150000));
    assert_int_equal(mi.huge_pages_total, 2);
    assert_int_equal(mi.huge_pages_free, 1);
    assert_int_equal(mi.hugepagesize_bytes, KIB(2048));
    oomkit_mem_psi psi;
    assert_int_equal(oomkit_mem_psi_read(ctx, &psi), 0);
    assert_true(psi.some.present && psi.full.present);
    assert_true(psi.some.avg10_pct > 1.5299 && psi.some.avg10_pct < 1.5301);
    assert_true(psi.full.avg300_pct > 0.0199 && psi.full.avg300_pct < 0.0201);
    assert_int_equal(psi.some.total_us, 1234567);
    assert_int_equal(psi.full.total_us, 45678);
    oomkit_mem_ctx_close(ctx);

    /* 3.10: no MemAvailable (3.14), no KReclaimable (4.20), no PSI (4.20). */
    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_meminfo_read(ctx, &mi), 0);
    assert_int_equal(mi.mem_total_bytes, KIB(2048000));
    assert_int_equal(mi.mem_available_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(mi.kreclaimable_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(oomkit_mem_psi_read(ctx, &psi), -ENOENT);
    oomkit_mem_ctx_close(ctx);
}

static void test_cgroup_detect(void **state)
{
    (void)state;
    oomkit_mem_cgroup_layout l;
    oomkit_mem_ctx *ctx = open_fixture("cgroup/v1");
    assert_int_equal(oomkit_mem_cgroup_detect(ctx, &l), 0);
    assert_int_equal(l.mode, OOMKIT_MEM_CGROUP_MODE_HYBRID);
    assert_int_equal(l.memory_version, 1);
    assert_string_equal(l.v1_memory_mount, "/sys/fs/cgroup/memory");
    assert_string_equal(l.v2_mount, "/sys/fs/cgroup/unified");
    assert_int_equal(l.v2_has_memory, 0);
    oomkit_mem_ctx_close(ctx);

    ctx = open_fixture("cgroup/v2");
    assert_int_equal(oomkit_mem_cgroup_detect(ctx, &l), 0);
    assert_int_equal(l.mode, OOMKIT_MEM_CGROUP_MODE_UNIFIED);
    assert_int_equal(l.memory_version, 2);
    assert_string_equal(l.v2_mount, "/sys/fs/cgroup");
    assert_int_equal(l.v2_has_memory, 1);
    assert_string_equal(l.v1_memory_mount, "");
    oomkit_mem_ctx_close(ctx);

    ctx = open_fixture("proc/k3");
    assert_int_equal(oomkit_mem_cgroup_detect(ctx, &l), 0);
    assert_int_equal(l.mode, OOMKIT_MEM_CGROUP_MODE_LEGACY);
    assert_int_equal(l.memory_version, 1);
    oomkit_mem_ctx_close(ctx);

    /* cgroup2 mounted but its controller list is unreadable: no memory. */
    ctx = open_fixture("proc/k6");
    assert_int_equal(oomkit_mem_cgroup_detect(ctx, &l), 0);
    assert_int_equal(l.mode, OOMKIT_MEM_CGROUP_MODE_UNIFIED);
    assert_int_equal(l.memory_version, 0);
    oomkit_mem_cgroup_ref ref;
    assert_int_equal(oomkit_mem_cgroup_of_pid(ctx, 1234, &l, &ref), -ENOENT);
    oomkit_mem_ctx_close(ctx);
}

static void test_cgroup_v1(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("cgroup/v1");
    oomkit_mem_cgroup_ref ref;
    assert_int_equal(oomkit_mem_cgroup_of_pid(ctx, 4242, NULL, &ref), 0);
    assert_int_equal(ref.version, 1);
    assert_string_equal(ref.path, "/kubepods/burstable/pod-a");
    assert_string_equal(ref.dir, "/sys/fs/cgroup/memory/kubepods/burstable/pod-a");
    oomkit_mem_cgroup_stats s;
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.version, 1);
    assert_int_equal(s.usage_bytes, MIB(480));
    assert_int_equal(s.limit_bytes, MIB(512));
    assert_int_equal(s.max_usage_bytes, MIB(511));
    assert_int_equal(s.failcnt, 17);
    /* total_* keys win over the flat ones. */
    assert_int_equal(s.anon_bytes, MIB(285));
    assert_int_equal(s.file_bytes, MIB(190));
    assert_int_equal(s.inactive_file_bytes, MIB(110));
    assert_int_equal(s.swap_bytes, MIB(4));
    assert_int_equal(s.shmem_bytes, MIB(2));
    assert_int_equal(s.file_mapped_bytes, MIB(30));
    assert_int_equal(s.pgmajfault, 7);
    assert_int_equal(s.hierarchical_limit_bytes, MIB(512));
    /* working set = 480 - 110 = 370 MiB; headroom = 512 - 370 = 142 MiB. */
    assert_int_equal(s.working_set_bytes, MIB(370));
    assert_int_equal(s.headroom_bytes, MIB(142));
    assert_int_equal(s.rss_bytes, MIB(285));
    assert_int_equal(s.cache_bytes, MIB(190));
    assert_int_equal(s.oom_kill, 2);
    assert_int_equal(s.oom_kill_disable, 0);
    assert_int_equal(s.under_oom, 0);
    assert_int_equal(s.high_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.events_oom, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.kernel_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.psi_present, 0);

    /* Flat keys only, unlimited (2^63 - 4096), inactive_file (25 MiB) above
     * usage (20 MiB): the working set clamps at 0; an old kernel without the
     * oom_kill line leaves it absent. */
    assert_int_equal(
        oomkit_mem_cgroup_ref_from_dir(ctx, "/sys/fs/cgroup/memory/kubepods/besteffort/pod-b/",
                                       &ref), 0);
    assert_int_equal(ref.version, 1);
    assert_string_equal(ref.dir, "/sys/fs/cgroup/memory/kubepods/besteffort/pod-b");
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.limit_bytes, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(s.anon_bytes, MIB(2));
    assert_int_equal(s.inactive_file_bytes, MIB(25));
    assert_int_equal(s.working_set_bytes, 0);
    assert_int_equal(s.headroom_bytes, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(s.oom_kill, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.oom_kill_disable, 1);

    /* A cgroup removed between the listing and the read. */
    assert_int_equal(oomkit_mem_cgroup_ref_from_dir(ctx, "/sys/fs/cgroup/memory/gone", &ref),
                     -ENOENT);
    snprintf(ref.dir, sizeof ref.dir, "/sys/fs/cgroup/memory/gone");
    ref.version = 1;
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), -ENOENT);
    oomkit_mem_ctx_close(ctx);
}

static void test_cgroup_v2(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("cgroup/v2");
    oomkit_mem_cgroup_ref ref;
    assert_int_equal(oomkit_mem_cgroup_of_pid(ctx, 4343, NULL, &ref), 0);
    assert_int_equal(ref.version, 2);
    assert_string_equal(ref.path, "/kubepods.slice/kubepods-burstable.slice/pod1");
    assert_string_equal(ref.dir, "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/pod1");
    oomkit_mem_cgroup_stats s;
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.usage_bytes, MIB(900));
    assert_int_equal(s.limit_bytes, MIB(1024));
    assert_int_equal(s.high_bytes, MIB(960));
    assert_int_equal(s.max_usage_bytes, MIB(1000));
    assert_int_equal(s.swap_bytes, MIB(8));
    assert_int_equal(s.anon_bytes, MIB(700));
    assert_int_equal(s.file_bytes, MIB(180));
    assert_int_equal(s.kernel_bytes, MIB(12));
    assert_int_equal(s.inactive_file_bytes, MIB(150));
    assert_int_equal(s.slab_reclaimable_bytes, MIB(3));
    assert_int_equal(s.pgfault, 777777);
    /* working set = 900 - 150 = 750 MiB; headroom = 1024 - 750 = 274 MiB. */
    assert_int_equal(s.working_set_bytes, MIB(750));
    assert_int_equal(s.headroom_bytes, MIB(274));
    assert_int_equal(s.events_high, 5);
    assert_int_equal(s.events_max, 9);
    assert_int_equal(s.events_oom, 2);
    assert_int_equal(s.oom_kill, 2);
    assert_int_equal(s.oom_group_kill, 1);
    assert_int_equal(s.failcnt, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.hierarchical_limit_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.psi_present, 1);
    assert_true(s.psi.some.avg10_pct > 12.49 && s.psi.some.avg10_pct < 12.51);
    assert_int_equal(s.psi.some.total_us, 9876543);
    assert_int_equal(s.psi.full.total_us, 123456);

    /* Older kernel: no memory.peak, memory.swap.current, memory.pressure. */
    assert_int_equal(oomkit_mem_cgroup_ref_from_dir(
                         ctx, "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/pod2",
                         &ref), 0);
    assert_int_equal(ref.version, 2);
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.limit_bytes, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(s.max_usage_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.swap_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.psi_present, 0);
    assert_int_equal(s.working_set_bytes, MIB(54));
    assert_int_equal(s.headroom_bytes, OOMKIT_MEM_NO_LIMIT);

    /* A numeric limit of 2^63 - 4096 is "no limit". */
    assert_int_equal(oomkit_mem_cgroup_ref_from_dir(
                         ctx, "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice", &ref),
                     0);
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.limit_bytes, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(s.working_set_bytes, MIB(120));
    oomkit_mem_ctx_close(ctx);
}

static char vanish_usage[4400];

/* Fault hook: the cgroup is removed just as memory.stat is opened. */
static int remove_cgroup_at_stat(const char *path)
{
    size_t n = strlen(path);
    if (n >= 12 && strcmp(path + n - 12, "/memory.stat") == 0) {
        unlink(vanish_usage);
        return -ENOENT;
    }
    return 0;
}

/* A cgroup removed between two of its files: -ENOENT, not a result with
 * the later fields silently absent. */
static void test_cgroup_vanishes_mid_read(void **state)
{
    (void)state;
    const char *tmpdir = getenv("TMPDIR");
    char root[2048], dir[2100];
    snprintf(root, sizeof root, "%s/oomkit-mem-cg-%d", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (int)getpid());
    assert_int_equal(mkdir(root, 0700), 0);
    snprintf(dir, sizeof dir, "%s/cg", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(vanish_usage, sizeof vanish_usage, "%s/memory.current", dir);
    FILE *f = fopen(vanish_usage, "w");
    assert_non_null(f);
    fputs("1048576\n", f);
    fclose(f);
    oomkit_mem_options o = { .root = root };
    oomkit_mem_ctx *ctx = NULL;
    assert_int_equal(oomkit_mem_ctx_open(&o, &ctx), 0);
    oomkit_mem_cgroup_ref ref;
    assert_int_equal(oomkit_mem_cgroup_ref_from_dir(ctx, "/cg", &ref), 0);
    oomkit_mem_cgroup_stats s;
    /* Only memory.current present: a valid (old or minimal) cgroup. */
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), 0);
    assert_int_equal(s.usage_bytes, 1048576);
    assert_int_equal(s.limit_bytes, OOMKIT_MEM_ABSENT);
    /* A usage that is no number fails the read and names its file. */
    f = fopen(vanish_usage, "w");
    assert_non_null(f);
    fputs("lots\n", f);
    fclose(f);
    assert_true(oomkit_mem_cgroup_read(ctx, &ref, &s) < 0);
    assert_string_equal(oomkit_mem_ctx_last_path(ctx), "/cg/memory.current");
    f = fopen(vanish_usage, "w");
    assert_non_null(f);
    fputs("1048576\n", f);
    fclose(f);
    oomkit__mem_sys_fault = remove_cgroup_at_stat;
    assert_int_equal(oomkit_mem_cgroup_read(ctx, &ref, &s), -ENOENT);
    oomkit__mem_sys_fault = NULL;
    oomkit_mem_ctx_close(ctx);
    rmdir(dir);
    rmdir(root);
}

static int count_dir(const char *dir, void *arg)
{
    (void)dir;
    (*(int *)arg)++;
    return 0;
}

static int stop_at_pod(const char *dir, void *arg)
{
    (void)arg;
    return strstr(dir, "pod1") ? 7 : 0;
}

static void test_cgroup_walk(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = open_fixture("cgroup/v1");
    int n = 0;
    assert_int_equal(oomkit_mem_cgroup_walk(ctx, "/sys/fs/cgroup/memory", count_dir, &n), 0);
    assert_int_equal(n, 6);
    n = 0;
    assert_int_equal(oomkit_mem_cgroup_walk(ctx, "/sys/fs/cgroup/memory/kubepods/besteffort",
                                            count_dir, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(oomkit_mem_cgroup_walk(ctx, "/nonexistent", count_dir, &n), -ENOENT);
    oomkit_mem_ctx_close(ctx);
    ctx = open_fixture("cgroup/v2");
    n = 0;
    assert_int_equal(oomkit_mem_cgroup_walk(ctx, "/sys/fs/cgroup", count_dir, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(oomkit_mem_cgroup_walk(ctx, "/sys/fs/cgroup", stop_at_pod, NULL), 7);
    oomkit_mem_ctx_close(ctx);
}

/* Hints and arguments a careless caller may pass are refused or bounded,
 * never a loop or a terabyte allocation. */
static void test_hostile_arguments(void **state)
{
    (void)state;
    oomkit_mem_ctx *ctx = NULL;
    oomkit_mem_options o = { .buffer_bytes = SIZE_MAX };
    assert_int_equal(oomkit_mem_ctx_open(&o, &ctx), 0);
    assert_true(ctx->buf_cap <= ((size_t)64 << 20));
    uint64_t sp;
    size_t n;
    assert_int_equal(oomkit_mem_thread_sp(NULL, 1, 1, &sp), -EINVAL);
    assert_int_equal(oomkit_mem_thread_sp(ctx, 0, 0, &sp), -EINVAL);
    assert_int_equal(oomkit_mem_thread_sp(ctx, -1, 0, &sp), -EINVAL);
    assert_int_equal(oomkit_mem_threads_list(ctx, getpid(), NULL, 4, &n), -EINVAL);
    assert_int_equal(oomkit_mem_pids_list(ctx, NULL, 10, &n), -EINVAL);
    assert_int_equal(oomkit_mem_threads_list(ctx, getpid(), NULL, 0, &n), 0);
    assert_true(n >= 1);
    /* A layout filled by the caller need not end its strings. */
    oomkit_mem_cgroup_layout l;
    memset(&l, 'A', sizeof l);
    l.memory_version = 2;
    oomkit_mem_cgroup_ref ref;
    assert_int_equal(oomkit_mem_cgroup_ref_resolve(ctx, &l, "/", &ref), -ENOENT);
    oomkit_mem_ctx_close(ctx);
    /* A root that is missing or a file fails at open, not at the first read. */
    oomkit_mem_options missing = { .root = "/nonexistent-oomkit-root" };
    assert_int_equal(oomkit_mem_ctx_open(&missing, &ctx), -ENOENT);
    const char *src = getenv("OOMKIT_SOURCE_DIR");
    char a_file[4096];
    snprintf(a_file, sizeof a_file, "%s/tests/fixtures/proc/k6/proc/meminfo", src ? src : ".");
    assert_int_equal(access(a_file, R_OK), 0);
    oomkit_mem_options file = { .root = a_file };
    assert_int_equal(oomkit_mem_ctx_open(&file, &ctx), -ENOTDIR);
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(oomkit__parse_limit("max\n", 4, &v), 0);
    assert_int_equal(v, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(oomkit__parse_limit("9223372036854771712\n", 20, &v), 0);
    assert_int_equal(v, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(oomkit__parse_limit("4611686018427387903\n", 20, &v), 0);
    assert_int_equal(v, 4611686018427387903u); /* 2^62 - 1 is still a limit */
    assert_int_equal(oomkit__parse_limit("99999999999999999999999999\n", 27, &v), 0);
    assert_int_equal(v, OOMKIT_MEM_NO_LIMIT);
    assert_int_equal(oomkit__parse_limit("12x\n", 4, &v), -EINVAL);
    assert_int_equal(oomkit__parse_limit("", 0, &v), -EINVAL);
    assert_int_equal(oomkit__parse_single_u64("18446744073709551615\n", 21, &v), 0);
    assert_int_equal(v, UINT64_MAX - 2); /* saturates below the markers */

    oomkit_mem_cgroup_stats s;
    oomkit__cgroup_stats_clear(&s, 2);
    oomkit_mem_cgroup_derive(&s);
    assert_int_equal(s.working_set_bytes, OOMKIT_MEM_ABSENT);
    assert_int_equal(s.headroom_bytes, OOMKIT_MEM_ABSENT);
    s.usage_bytes = 100;
    oomkit_mem_cgroup_derive(&s);
    assert_int_equal(s.working_set_bytes, 100); /* no inactive_file: usage */
    assert_int_equal(s.headroom_bytes, OOMKIT_MEM_ABSENT); /* limit unknown */
    s.limit_bytes = 60;
    oomkit_mem_cgroup_derive(&s);
    assert_int_equal(s.headroom_bytes, 0); /* over the limit: clamped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_statm_and_stat),
        cmocka_unit_test(test_rollup),
        cmocka_unit_test(test_smaps),
        cmocka_unit_test(test_smaps_chunk_boundaries),
        cmocka_unit_test(test_threads_and_breakdown),
        cmocka_unit_test(test_vanished_and_denied),
        cmocka_unit_test(test_eacces_names_file),
        cmocka_unit_test(test_meminfo_psi),
        cmocka_unit_test(test_cgroup_detect),
        cmocka_unit_test(test_cgroup_v1),
        cmocka_unit_test(test_cgroup_v2),
        cmocka_unit_test(test_cgroup_vanishes_mid_read),
        cmocka_unit_test(test_cgroup_walk),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_hostile_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
