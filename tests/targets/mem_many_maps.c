/* Benchmark child: a process with many mappings (default 50 000), for
 * timing `oomkit inspect` and the smaps reader on a worst-case layout.
 *
 * One anonymous region is split into single-page VMAs by giving every
 * other page a different protection, so the kernel cannot merge them;
 * every page is touched, so each VMA has one resident page. Prints the
 * number of mappings it made and "ready", then waits for stdin to close.
 * Usage: mem_many_maps [N] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000;
    if (n < 2)
        n = 2;
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (size_t)n * (size_t)page;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < n; i++)
        p[i * page] = 1;
    for (long i = 1; i < n; i += 2) {
        if (mprotect(p + i * page, (size_t)page, PROT_READ) != 0) {
            perror("mprotect (vm.max_map_count too low?)");
            return 1;
        }
    }
    printf("mappings %ld\nready\n", n);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
