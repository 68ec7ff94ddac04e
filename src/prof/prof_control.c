/* Start-up, dumps and process events of liboomkit_prof.so.
 *
 * Start-up runs from a constructor (before main, usually before any other
 * library's constructor since LD_PRELOAD objects initialise first): resolve
 * the real functions, read OOMKIT_PROF, map the tables, then switch
 * recording on. A background thread owns every dump except the one at
 * exit: the signal handler and the in-use threshold only write one byte to
 * a pipe the thread polls, so no dump ever runs inside a signal handler or
 * inside malloc (gperftools' in-handler dump is what makes its signal dumps
 * unreliable). Dumps are serialised by one mutex.
 *
 * fork: the pthread_atfork handlers hold every profiler lock across fork so
 * the child never inherits a lock held by a thread that does not exist
 * there; the child keeps the parent's statistics (its heap is a copy of the
 * parent's), starts its own dump thread and writes files under its own pid.
 * exec: LD_PRELOAD is inherited by exec'd programs; unless exec=follow we
 * remove our library from LD_PRELOAD at start-up so children run plain. */
#include "prof/prof_internal.h"

#include "oomkit/prof.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct prof_config oomkit__prof_cfg;

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static int wake_pipe[2] = { -1, -1 };
static _Atomic unsigned seq;
static _Atomic int inuse_fired;
static _Atomic int started;

/* One line on stderr without stdio (which may allocate or hold locks); b
 * is printed up to its first comma, so a bad setting is named alone. */
static void say(const char *a, const char *b)
{
    ssize_t r;
    r = write(2, "oomkit-prof: ", 13);
    r = write(2, a, strlen(a));
    if (b != NULL)
        r = write(2, b, strcspn(b, ","));
    r = write(2, "\n", 1);
    (void)r;
}

static void wake(char why)
{
    int saved = errno;
    if (wake_pipe[1] >= 0) {
        ssize_t r = write(wake_pipe[1], &why, 1);
        (void)r;
    }
    errno = saved;
}

static void on_signal(int sig)
{
    (void)sig;
    wake('s');
}

void oomkit__prof_inuse_crossed(void)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&inuse_fired, &expected, 1))
        wake('i');
}

static int next_path(char *buf, size_t cap)
{
    unsigned n = atomic_fetch_add(&seq, 1);
    int len = snprintf(buf, cap, "%s.%ld.%u.pb.gz", oomkit__prof_cfg.out, (long)getpid(), n);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

static int dump_to(const char *path)
{
    char auto_path[PATH_MAX];
    oomkit__prof_guard_enter();
    pthread_mutex_lock(&dump_lock);
    int err = 0;
    if (path == NULL) {
        err = next_path(auto_path, sizeof(auto_path));
        path = auto_path;
    }
    if (err == 0)
        err = oomkit__prof_write(path);
    pthread_mutex_unlock(&dump_lock);
    oomkit__prof_guard_leave();
    if (err != 0)
        say("cannot write profile ", path);
    return err;
}

static void *dump_thread(void *arg)
{
    (void)arg;
    oomkit__prof_guard_enter(); /* this thread's own allocations are not profiled */
    for (;;) {
        struct pollfd pfd = { wake_pipe[0], POLLIN, 0 };
        int timeout = (oomkit__prof_cfg.dump & PROF_DUMP_INTERVAL)
                          ? (int)(oomkit__prof_cfg.interval_ms > INT_MAX ? INT_MAX
                                                                         : oomkit__prof_cfg.interval_ms)
                          : -1;
        int r = poll(&pfd, 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            dump_to(NULL);
            continue;
        }
        char c;
        if (read(wake_pipe[0], &c, 1) != 1)
            continue;
        if (c == 'q')
            break;
        dump_to(NULL);
    }
    return NULL;
}

static void start_thread(void)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* Block every signal in the dump thread so the program's handlers keep
     * running on the program's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&t, &a, dump_thread, NULL) != 0)
        say("cannot start the dump thread; dumps happen at exit only", NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
}

static void open_pipe(void)
{
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        wake_pipe[0] = wake_pipe[1] = -1;
        return;
    }
    /* The reader blocks in poll; only the write end must never block. */
    fcntl(wake_pipe[0], F_SETFL, 0);
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&dump_lock);
    oomkit__prof_mmap_atfork(0);
    oomkit__prof_table_lock_all();
}

static void atfork_parent(void)
{
    oomkit__prof_table_unlock_all();
    oomkit__prof_mmap_atfork(1);
    pthread_mutex_unlock(&dump_lock);
}

static void atfork_child(void)
{
    oomkit__prof_table_unlock_all();
    oomkit__prof_mmap_atfork(1);
    pthread_mutex_unlock(&dump_lock);
    atomic_store(&seq, 0);
    atomic_store(&inuse_fired, 0);
    if (wake_pipe[0] >= 0) {
        close(wake_pipe[0]);
        close(wake_pipe[1]);
    }
    open_pipe();
    if (oomkit__prof_cfg.dump & (PROF_DUMP_SIGNAL | PROF_DUMP_INTERVAL | PROF_DUMP_INUSE))
        start_thread();
}

/* Removes the entry naming our library from LD_PRELOAD (exec=stop). */
static void drop_from_preload(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre == NULL || strstr(pre, "liboomkit_prof") == NULL)
        return;
    char buf[4096];
    size_t n = 0;
    const char *s = pre;
    while (*s != '\0') {
        size_t k = strcspn(s, ": ");
        bool ours = false;
        for (size_t i = 0; i + 14 <= k; i++)
            if (memcmp(s + i, "liboomkit_prof", 14) == 0)
                ours = true;
        if (!ours && k > 0 && n + k + 1 < sizeof(buf)) {
            if (n > 0)
                buf[n++] = ':';
            memcpy(buf + n, s, k);
            n += k;
        }
        s += k;
        if (*s != '\0')
            s++;
    }
    buf[n] = '\0';
    if (n == 0)
        unsetenv("LD_PRELOAD");
    else
        setenv("LD_PRELOAD", buf, 1);
}

__attribute__((constructor(101))) static void prof_start(void)
{
    if (atomic_exchange(&started, 1))
        return;
    oomkit__prof_resolve_real();
    oomkit__prof_guard_enter();
    const char *bad;
    if (oomkit__prof_config_parse(getenv("OOMKIT_PROF"), &oomkit__prof_cfg, &bad) != 0)
        say("ignoring bad OOMKIT_PROF setting (using its default): ", bad);
    oomkit__prof_exact = oomkit__prof_cfg.sample_bytes <= 1;
    oomkit__prof_unwind_init();
    if (oomkit__prof_table_init() != 0) {
        say("cannot map the profiler's tables; profiling is off", NULL);
        oomkit__prof_guard_leave();
        return;
    }
    if (!oomkit__prof_cfg.follow_exec)
        drop_from_preload();
    open_pipe();
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (oomkit__prof_cfg.dump & PROF_DUMP_SIGNAL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(oomkit__prof_cfg.signal, &sa, NULL);
    }
    if (oomkit__prof_cfg.dump & (PROF_DUMP_SIGNAL | PROF_DUMP_INTERVAL | PROF_DUMP_INUSE))
        start_thread();
    oomkit__prof_guard_leave();
    atomic_store(&oomkit__prof_on, 1);
}

__attribute__((destructor(101))) static void prof_stop(void)
{
    if (!atomic_load(&oomkit__prof_on))
        return;
    if (oomkit__prof_cfg.dump & PROF_DUMP_EXIT)
        dump_to(NULL);
}

PROF_EXPORT int oomkit_prof_dump(const char *path)
{
    if (!atomic_load(&oomkit__prof_on))
        return -ENOSYS;
    return dump_to(path);
}

PROF_EXPORT int oomkit_prof_active(void)
{
    return atomic_load(&oomkit__prof_on) ? 1 : 0;
}
