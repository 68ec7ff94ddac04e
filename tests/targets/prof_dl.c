/* Profiler target: loads prof_dl_lib.so with dlopen (path in argv[1]) and
 * calls its allocating function; the library stays loaded. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (h == NULL) {
        fprintf(stderr, "prof_dl: %s\n", dlerror());
        return 1;
    }
    void (*fn)(void) = (void (*)(void))dlsym(h, "dl_site");
    if (fn == NULL)
        return 1;
    fn();
    return 0;
}
