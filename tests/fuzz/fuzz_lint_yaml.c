/* libFuzzer target for the linter's whole YAML-to-findings path: libyaml
 * loading, the walker (Lists, templates, merge keys, aliases), every rule,
 * sorting, and the text, JSON and SARIF writers. Any crash, leak, hang or
 * sanitizer report is a bug; findings and YAML errors are normal. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lint/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL)
        sink = fopen("/dev/null", "w");
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    struct oomkit__lint_report *rep = oomkit__lint_report_new();
    if (rep == NULL)
        return 0;
    (void)oomkit__lint_buffer(&cfg, rep, "fuzz.yaml", (const char *)data, size);
    oomkit__lint_report_sort(rep);
    if (sink != NULL) {
        oomkit__lint_write_text(sink, &cfg, rep);
        oomkit__lint_write_json(sink, &cfg, rep);
        oomkit__lint_write_sarif(sink, &cfg, rep);
    }
    oomkit__lint_report_free(rep);
    return 0;
}
