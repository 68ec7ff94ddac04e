/* Small helpers shared by `oomkit inspect` and `oomkit top`: opening the
 * readers, human-readable byte sizes and JSON values that stay null when
 * the kernel did not report a figure. */
#ifndef OOMKIT_CLI_INSPECT_FMT_H
#define OOMKIT_CLI_INSPECT_FMT_H

#include "oomkit/mem.h"

#include "cli/cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Opens the readers on sysroot (NULL: this machine) for `oomkit CMD`. An
 * OOMKIT_EXIT_* code: a --sysroot that is missing or no directory is the
 * user's (usage), said by option name. */
static inline int mem_cli_open(const char *cmd, const char *sysroot, oomkit_mem_ctx **ctx)
{
    oomkit_mem_options o = { .root = sysroot };
    int rc = oomkit_mem_ctx_open(&o, ctx);
    if (rc == 0)
        return OOMKIT_EXIT_OK;
    if (sysroot != NULL && rc != -ENOMEM) {
        fprintf(stderr, "oomkit %s: --sysroot %s: %s\n", cmd, sysroot, strerror(-rc));
        return OOMKIT_EXIT_USAGE;
    }
    fprintf(stderr, "oomkit %s: %s\n", cmd, oomkit_strerror(rc));
    return OOMKIT_EXIT_FAIL;
}

/* Formats bytes as "12.3 MiB" into buf; "-" when absent, "none" for no
 * limit. Returns buf. */
static inline const char *mem_fmt_bytes(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (v == OOMKIT_MEM_ABSENT) {
        snprintf(buf, cap, "-");
        return buf;
    }
    if (v == OOMKIT_MEM_NO_LIMIT) {
        snprintf(buf, cap, "none");
        return buf;
    }
    double d = (double)v;
    int u = 0;
    while (d >= 1024.0 && u < 5) {
        d /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)v);
    else
        snprintf(buf, cap, "%.1f %s", d, units[u]);
    return buf;
}

/* A JSON integer, or null when absent or "no limit". */
static inline json_object *mem_json_u64(uint64_t v)
{
    if (!oomkit_mem_has(v))
        return NULL;
    return json_object_new_int64(v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* Parses a positive decimal count; -1 if s is not one. */
static inline long mem_parse_count(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v > 0) ? v : -1;
}

#endif
