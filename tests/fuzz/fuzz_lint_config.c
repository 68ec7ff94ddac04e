/* libFuzzer target for the linter's config file: any bytes must either
 * load or be rejected with a positioned message, and a loaded config must
 * lint a manifest that exercises every rule without misbehaving. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lint/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest[] =
    "kind: Pod\nspec:\n  containers:\n"
    "  - name: a\n    resources: {requests: {memory: 1Gi}, limits: {memory: 2Gi}}\n"
    "    env:\n    - {name: GOMEMLIMIT, value: 2GiB}\n"
    "    - {name: JAVA_TOOL_OPTIONS, value: -Xmx1g}\n"
    "    - {name: OOMKIT_PROF, value: inuse>=2GiB}\n"
    "  - name: b\n    resources: {requests: {memory: 12GB}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char err[256];
    err[0] = '\0';
    if (oomkit__lint_config_load(&cfg, (const char *)data, size, err, sizeof(err)) != 0) {
        /* A rejection always says where. */
        if (strchr(err, ':') == NULL)
            __builtin_trap();
        return 0;
    }
    struct oomkit__lint_report *rep = oomkit__lint_report_new();
    if (rep == NULL)
        return 0;
    (void)oomkit__lint_buffer(&cfg, rep, "m.yaml", manifest, sizeof(manifest) - 1);
    oomkit__lint_report_free(rep);
    return 0;
}
