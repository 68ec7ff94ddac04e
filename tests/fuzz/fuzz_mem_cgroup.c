/* libFuzzer target for the cgroup parsers: memory.stat (v1 and v2),
 * memory.events, memory.oom_control, limit files, /proc/PID/cgroup and
 * /proc/self/mountinfo, cgroup.controllers, plus the derived figures. The first byte picks the
 * parser. Checks memory safety and the derived-figure invariants
 * (working set never above usage, headroom never above the limit). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    oomkit_mem_cgroup_stats st;
    int version = (data[0] & 0x10) ? 2 : 1; /* e.g. 0x15: v2 memory.stat */
    oomkit__cgroup_stats_clear(&st, version);
    switch (data[0] % 7) {
    case 6:
        if (oomkit__parse_controllers_has(s, len, "memory") &&
            (len < 6 || !memmem(s, len, "memory", 6)))
            abort();
        break;
    case 0:
        oomkit__parse_cgroup_stat(s, len, version, &st);
        break;
    case 1:
        oomkit__parse_cgroup_events(s, len, &st);
        break;
    case 2:
        oomkit__parse_oom_control(s, len, &st);
        if (st.oom_kill_disable < -1 || st.oom_kill_disable > 1)
            abort();
        break;
    case 3: {
        uint64_t v;
        if (oomkit__parse_limit(s, len, &v) == 0 && v == OOMKIT_MEM_ABSENT)
            abort();
        st.limit_bytes = v;
        oomkit__parse_single_u64(s, len, &st.usage_bytes);
        break;
    }
    case 4: {
        static char v1[OOMKIT_MEM_PATH_MAX], v2[OOMKIT_MEM_PATH_MAX];
        oomkit__parse_proc_cgroup(s, len, v1, v2);
        if (strlen(v1) >= sizeof v1 || strlen(v2) >= sizeof v2)
            abort();
        break;
    }
    default: {
        static oomkit_mem_cgroup_layout l;
        oomkit__parse_mountinfo(s, len, &l);
        if (strlen(l.v1_memory_mount) >= sizeof l.v1_memory_mount)
            abort();
        break;
    }
    }
    oomkit_mem_cgroup_derive(&st);
    if (oomkit_mem_has(st.working_set_bytes) && oomkit_mem_has(st.usage_bytes) &&
        st.working_set_bytes > st.usage_bytes)
        abort();
    if (oomkit_mem_has(st.headroom_bytes) && oomkit_mem_has(st.limit_bytes) &&
        st.headroom_bytes > st.limit_bytes)
        abort();
    return 0;
}
