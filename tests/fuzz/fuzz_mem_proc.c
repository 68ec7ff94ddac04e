/* libFuzzer target for the /proc parsers of the mem component: status,
 * statm, stat, meminfo, pressure and the syscall file. The first byte
 * picks the parser; the rest is the file content. Checks that no parser
 * reads out of bounds or crashes, and that what they return is sane. */
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
    switch (data[0] % 6) {
    case 0: {
        oomkit_mem_status st;
        if (oomkit__parse_status(s, len, &st) == 0 && strnlen(st.name, sizeof st.name) == sizeof st.name)
            abort();
        break;
    }
    case 1: {
        oomkit_mem_statm sm;
        oomkit__parse_statm(s, len, 4096, &sm);
        break;
    }
    case 2: {
        oomkit_mem_pstat ps;
        if (oomkit__parse_pstat(s, len, 4096, &ps) == 0 && strnlen(ps.comm, sizeof ps.comm) == sizeof ps.comm)
            abort();
        break;
    }
    case 3: {
        oomkit_mem_meminfo mi;
        oomkit__parse_meminfo(s, len, &mi);
        break;
    }
    case 4: {
        oomkit_mem_psi p;
        if (oomkit__parse_psi(s, len, &p) == 0 && !p.some.present)
            abort();
        break;
    }
    default: {
        uint64_t sp;
        if (oomkit__parse_syscall_sp(s, len, &sp) == 0 && sp == 0)
            abort();
        break;
    }
    }
    return 0;
}
