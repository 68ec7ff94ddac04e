/* Test child for the real-cgroup test: allocates and touches memory on
 * command, so the test can place a known amount inside a memory cgroup and
 * then drive the process past the cgroup's limit.
 *
 * Commands on stdin, one per line; each is answered on stdout:
 *   alloc N   map and touch N MiB more, answer "ok"
 *   grow      touch 4 MiB at a time forever (until the OOM killer ends it)
 * Built without sanitizers so its memory is only what it touches. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int touch_mib(unsigned long mib)
{
    size_t n = mib << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    return 0;
}

int main(void)
{
    char line[128];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        unsigned long mib;
        if (sscanf(line, "alloc %lu", &mib) == 1) {
            if (touch_mib(mib) != 0) {
                printf("fail\n");
                return 1;
            }
            printf("ok\n");
        } else if (strncmp(line, "grow", 4) == 0) {
            for (;;)
                if (touch_mib(4) != 0)
                    return 1;
        }
    }
    return 0;
}
