/* Profiler target: a parent allocates, forks, and the child allocates at
 * its own site and exits; each process writes its own profile. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

NOINLINE static void parent_site(void)
{
    for (int i = 0; i < 10; i++)
        sink = malloc(5000); /* SITE:parent_site */
}

NOINLINE static void child_site(void)
{
    for (int i = 0; i < 7; i++)
        sink = malloc(3000); /* SITE:child_site */
}

int main(void)
{
    parent_site();
    pid_t pid = fork();
    if (pid == 0) {
        child_site();
        exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
