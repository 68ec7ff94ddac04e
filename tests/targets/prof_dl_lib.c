/* A library the prof_dl target loads with dlopen after start-up. */
#include <stdlib.h>

void *volatile prof_dl_sink;

__attribute__((noinline)) void dl_site(void)
{
    for (int i = 0; i < 10; i++)
        prof_dl_sink = malloc(12345); /* SITE:dl_site */
}
