/* Test child for the mem classification tests: lays out memory of known
 * sizes in every category `oomkit inspect` reports, prints where each one
 * is, then blocks until its stdin closes.
 *
 * Output, one region per line (addresses hex, sizes decimal bytes):
 *   <kind> <addr> <size> <touched>
 * kinds: heap (brk main arena), arena (a thread's malloc arena), bigmalloc
 * (malloc above the mmap threshold), anon (explicit mmap), file (mapped and
 * read file), memfd, shm (/dev/shm), and per thread
 *   stack <addr-in-stack> <stack-low> <stack-size> <touched>
 * then "ready". Built without sanitizers: the test checks glibc malloc's own
 * layout, which ASan's allocator would replace. THP is disabled for the
 * process so resident sizes are exact to the page. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define HEAP_BYTES (8 * MIB)
#define ARENA_BYTES (3 * MIB)
#define BIG_BYTES (34 * MIB)
#define ANON_BYTES (16 * MIB)
#define ANON_TOUCH_BYTES (12 * MIB)
#define FILE_BYTES (8 * MIB)
#define MEMFD_BYTES (4 * MIB)
#define SHM_BYTES (2 * MIB)
#define THREADS 3
#define STACK_BYTES (4 * MIB)
#define STACK_TOUCH_BYTES (2 * MIB)

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t started;
static int hold_pipe[2];

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void touch(volatile char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    if (n)
        p[n - 1] = 1;
}

static void *thread_main(void *arg)
{
    int idx = (int)(intptr_t)arg;
    /* Touch a known amount of this thread's own stack. */
    volatile char big[STACK_TOUCH_BYTES];
    touch(big, sizeof big);
    pthread_attr_t a;
    void *low;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0 ||
        pthread_attr_getstack(&a, &low, &size) != 0)
        die("pthread_getattr_np");
    pthread_attr_destroy(&a);
    void *blk = NULL;
    if (idx == 0) {
        /* This thread's first malloc creates its own arena. */
        blk = malloc(ARENA_BYTES);
        if (!blk)
            die("malloc arena");
        touch(blk, ARENA_BYTES);
    }
    pthread_mutex_lock(&out_lock);
    printf("stack %p %p %zu %u\n", (void *)&big[0], low, size, STACK_TOUCH_BYTES);
    if (blk)
        printf("arena %p %u %u\n", blk, ARENA_BYTES, ARENA_BYTES);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    pthread_barrier_wait(&started);
    char c;
    /* Blocks in read(2), so /proc/PID/task/TID/syscall shows its sp. */
    while (read(hold_pipe[0], &c, 1) > 0)
        ;
    return (void *)(uintptr_t)big[0];
}

/* True when every thread but the caller is sleeping (state S). */
static int threads_asleep(void)
{
    int asleep = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 1;
    struct dirent *e;
    int self = (int)gettid(), all = 1;
    while ((e = readdir(d)) != NULL) {
        int tid = atoi(e->d_name);
        if (tid <= 0 || tid == self)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close = strrchr(buf, ')');
        if (close && close[1] == ' ' && close[2] != 'S')
            all = 0;
        asleep++;
    }
    closedir(d);
    return all && asleep == THREADS;
}

int main(void)
{
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
        die("PR_SET_THP_DISABLE");
    /* Keep allocations below 32 MiB in the arenas, never trim or pad. */
    mallopt(M_MMAP_THRESHOLD, 32 * MIB);
    mallopt(M_TOP_PAD, 0);
    mallopt(M_TRIM_THRESHOLD, 256 * MIB);
    if (pipe(hold_pipe) != 0)
        die("pipe");

    char *heap = malloc(HEAP_BYTES);
    if (!heap)
        die("malloc heap");
    touch(heap, HEAP_BYTES);
    printf("heap %p %u %u\n", (void *)heap, HEAP_BYTES, HEAP_BYTES);

    char *big = malloc(BIG_BYTES);
    if (!big)
        die("malloc big");
    touch(big, BIG_BYTES);
    printf("bigmalloc %p %u %u\n", (void *)big, BIG_BYTES, BIG_BYTES);

    char *anon = mmap(NULL, ANON_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (anon == MAP_FAILED)
        die("mmap anon");
    /* A flag no other mapping has, so the kernel never merges it with a
     * neighbour and its size stays exact. */
    if (madvise(anon, ANON_BYTES, MADV_DONTFORK) != 0)
        die("madvise");
    touch(anon, ANON_TOUCH_BYTES);
    printf("anon %p %u %u\n", (void *)anon, ANON_BYTES, ANON_TOUCH_BYTES);

    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/oomkit-mem-child-%d", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open temp file");
    unlink(path);
    /* Written from a static buffer: a malloc'd one would add to [heap]. */
    static char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    for (unsigned i = 0; i < FILE_BYTES / sizeof chunk; i++)
        if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            die("write");
    char *file = mmap(NULL, FILE_BYTES, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED)
        die("mmap file");
    volatile unsigned sum = 0;
    for (size_t i = 0; i < FILE_BYTES; i += 4096)
        sum += (unsigned char)file[i];
    printf("file %p %u %u\n", (void *)file, FILE_BYTES, FILE_BYTES);

    int mfd = memfd_create("oomkit-test", 0);
    if (mfd < 0 || ftruncate(mfd, MEMFD_BYTES) != 0)
        die("memfd");
    char *mem = mmap(NULL, MEMFD_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (mem == MAP_FAILED)
        die("mmap memfd");
    touch(mem, MEMFD_BYTES);
    printf("memfd %p %u %u\n", (void *)mem, MEMFD_BYTES, MEMFD_BYTES);

    snprintf(path, sizeof path, "/dev/shm/oomkit-mem-child-%d", (int)getpid());
    int sfd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (sfd >= 0) {
        unlink(path);
        if (ftruncate(sfd, SHM_BYTES) != 0)
            die("ftruncate shm");
        char *shm = mmap(NULL, SHM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
        if (shm == MAP_FAILED)
            die("mmap shm");
        touch(shm, SHM_BYTES);
        printf("shm %p %u %u\n", (void *)shm, SHM_BYTES, SHM_BYTES);
    }
    fflush(stdout);

    pthread_barrier_init(&started, NULL, THREADS + 1);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, STACK_BYTES);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], &a, thread_main, (void *)(intptr_t)i) != 0)
            die("pthread_create");
    pthread_barrier_wait(&started);
    /* Wait until every thread sleeps in read(2): a running thread has no
     * stack pointer in /proc/PID/task/TID/syscall. */
    for (int tries = 0; tries < 400 && !threads_asleep(); tries++)
        usleep(5000);
    printf("ready\n");
    fflush(stdout);

    char c;
    while (read(0, &c, 1) > 0)
        ;
    close(hold_pipe[1]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    return (int)(sum & 0);
}
