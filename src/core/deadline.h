/* Absolute deadlines for the timed waits (pthread_cond_timedwait,
 * sem_clockwait), which take a struct timespec. */
#ifndef OOMKIT_CORE_DEADLINE_H
#define OOMKIT_CORE_DEADLINE_H

#include <stdint.h>
#include <time.h>

/* t plus ns (at least 0), with tv_nsec kept below a second. */
static inline struct timespec oomkit__deadline_after(struct timespec t, int64_t ns)
{
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec += (long)(ns % 1000000000);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
