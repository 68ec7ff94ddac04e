/* Control API of the oomkit heap profiler (liboomkit_prof.so).
 *
 * The profiler is loaded with LD_PRELOAD (or `oomkit profile -- CMD`), so a
 * program cannot know at link time whether it is there. Both functions are
 * therefore declared weak: when the profiler is not loaded their addresses
 * are NULL. Call them through the inline helpers below, which check. The
 * program needs no library for this header: it links nothing.
 *
 *   if (oomkit_prof_is_loaded())
 *       oomkit_prof_dump_now("/var/tmp/before-reload.pb.gz");
 */
#ifndef OOMKIT_PROF_H
#define OOMKIT_PROF_H

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a heap profile (gzip pprof) to path now, or to the next
 * `<prefix>.<pid>.<seq>.pb.gz` when path is NULL. path is borrowed. The
 * file appears atomically (temporary file + rename). Returns 0 or a negative
 * errno (-ENOSYS when the profiler did not start).
 * Thread safety: safe from any thread, not from a signal handler. */
int oomkit_prof_dump(const char *path) __attribute__((weak));

/* 1 when the profiler is loaded and recording, else 0.
 * Thread safety: safe from any thread and from signal handlers. */
int oomkit_prof_active(void) __attribute__((weak));

/* 1 when liboomkit_prof.so is loaded and recording.
 * Thread safety: as oomkit_prof_active. */
static inline int oomkit_prof_is_loaded(void)
{
    return oomkit_prof_active != 0 && oomkit_prof_active();
}

/* oomkit_prof_dump, or -ENOSYS when the profiler is not loaded.
 * Thread safety: as oomkit_prof_dump. */
static inline int oomkit_prof_dump_now(const char *path)
{
    return oomkit_prof_dump != 0 ? oomkit_prof_dump(path) : -ENOSYS;
}

#ifdef __cplusplus
}
#endif
#endif
