/* Leak child for the `oomkit watch` tests and benchmark: grows one kind of
 * memory at a steady rate until it is killed (or --max is reached).
 *
 *   watch_leak KIND RATE_MB_S [--max MB] [--dir DIR] [--exit-after S]
 *
 * KIND: heap      small mallocs (4 KiB, under glibc's mmap threshold, so
 *                 they come from the brk heap), written so they are resident
 *       mmap      anonymous 1 MiB mmaps, touched
 *       pagecache writes a file in DIR (default: the current directory) and
 *                 reads each chunk back, so its pages are active page cache
 *       shmem     writes a file in /dev/shm (tmpfs)
 * The rate is applied in 10 ms steps. Files are unlinked on a clean exit
 * only; the test removes its directory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: watch_leak heap|mmap|pagecache|shmem RATE_MB_S [--max MB] "
                        "[--dir DIR] [--exit-after S]\n");
        return 2;
    }
    const char *kind = argv[1];
    double rate = atof(argv[2]), max_mb = 1e9, exit_after = 0;
    const char *dir = ".";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max") == 0)
            max_mb = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--exit-after") == 0)
            exit_after = atof(argv[i + 1]);
    }
    int fd = -1;
    char path[4096];
    if (strcmp(kind, "pagecache") == 0 || strcmp(kind, "shmem") == 0) {
        snprintf(path, sizeof path, "%s/watch_leak.%d", strcmp(kind, "shmem") == 0 ? "/dev/shm" : dir,
                 (int)getpid());
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) {
            perror(path);
            return 1;
        }
    } else if (strcmp(kind, "heap") != 0 && strcmp(kind, "mmap") != 0) {
        fprintf(stderr, "watch_leak: unknown kind '%s'\n", kind);
        return 2;
    }
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof chunk);
    double start = now_s(), owed = 0, done_mb = 0, last = start;
    for (;;) {
        double t = now_s();
        if (exit_after > 0 && t - start >= exit_after)
            break;
        owed += (t - last) * rate * 1048576.0;
        last = t;
        while (owed >= 65536 && done_mb < max_mb) {
            size_t step = 65536;
            if (strcmp(kind, "heap") == 0) {
                for (size_t k = 0; k < step / 4096; k++) {
                    char *p = malloc(4096 - 16);
                    if (p == NULL)
                        return 1;
                    memset(p, 0x5a, 4096 - 16);
                }
            } else if (strcmp(kind, "mmap") == 0) {
                /* Whole 1 MiB mappings, accounted 64 KiB at a time. */
                static char *cur;
                static size_t used = 1 << 20;
                if (used == (1 << 20)) {
                    cur = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                    if (cur == MAP_FAILED)
                        return 1;
                    used = 0;
                }
                memset(cur + used, 0x5a, step);
                used += step;
            } else {
                if (write(fd, chunk, step) != (ssize_t)step)
                    return 1;
                if (strcmp(kind, "pagecache") == 0) {
                    /* A second access moves the pages to the active list. */
                    off_t end = lseek(fd, 0, SEEK_CUR);
                    if (pread(fd, chunk, step, end - (off_t)step) != (ssize_t)step)
                        return 1;
                }
            }
            owed -= (double)step;
            done_mb += (double)step / 1048576.0;
        }
        usleep(10000);
    }
    if (fd >= 0)
        unlink(path);
    return 0;
}
