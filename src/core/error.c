/* oomkit_strerror: names for the library's return codes. */
#include "oomkit/common.h"

#include <string.h>

const char *oomkit_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case -E2BIG: return "memory budget exceeded";
    case -EINVAL: return "invalid argument";
    case -ENOMEM: return "out of memory";
    case -ENOENT: return "not found";
    case -EEXIST: return "already exists";
    case -EBADMSG: return "corrupt or truncated data";
    case -EDEADLK: return "not allowed inside a read section";
    default: break;
    }
    if (code < 0 && code > -4096) {
        /* strerrordesc_np (glibc 2.32+) returns a static string, unlike
         * strerror, which may use a shared buffer. */
        const char *s = strerrordesc_np(-code);
        if (s != NULL)
            return s;
    }
    return "unknown error";
}
