/* libFuzzer target: the builders of `oomkit watch` on arbitrary strings and
 * numbers: the Prometheus text builder (every sample stays on one line, so
 * escaping holds), the Alertmanager JSON (it parses back to the same label
 * values) and the timeline SVG (NaN, Inf and huge values included). */
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "watch/alert.h"
#include "watch/capture.h"
#include "watch/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Up to 4 NUL-separated strings, then the rest as doubles. */
    char buf[4][256] = { "", "", "", "" };
    size_t pos = 0;
    for (int i = 0; i < 4 && pos < size; i++) {
        size_t n = 0;
        while (pos < size && data[pos] != 0 && n < 255)
            buf[i][n++] = (char)data[pos++];
        buf[i][n] = '\0';
        pos++;
    }
    struct oomkit__metrics m = { 0 };
    oomkit__metrics_reset(&m);
    int lines = 0;
    if (oomkit__metrics_family(&m, "oomkit_fuzz_bytes", "gauge", buf[0]) == 0)
        lines += 2;
    struct oomkit__label l[] = { { "cgroup", buf[1] }, { "command", buf[2] } };
    double v = 0;
    if (pos + sizeof v <= size)
        memcpy(&v, data + pos, sizeof v);
    if (oomkit__metrics_sample(&m, l, 2, v) == 0)
        lines++;
    struct oomkit__label l2[] = { { "cgroup", buf[1] }, { "command", buf[3] } };
    int rc = oomkit__metrics_sample(&m, l2, 2, v);
    if (rc == 0)
        lines++;
    else if (rc == -EEXIST && strcmp(buf[2], buf[3]) != 0)
        abort(); /* different label values must be different series */
    int nl = 0;
    for (size_t i = 0; i < m.len; i++)
        nl += m.text[i] == '\n';
    if (nl != lines)
        abort();
    oomkit__metrics_free(&m);

    struct oomkit__label al[] = { { "cgroup", buf[1] } };
    struct oomkit__label an[] = { { "capture_path", buf[2] } };
    struct oomkit__alert a = { "OomkitFuzz", al, 1, an, 1, fabs(v) < 1e11 ? fabs(v) : 0, 0, NULL };
    char *json = oomkit__alert_render(&a);
    if (json != NULL) {
        json_object *o = json_tokener_parse(json), *x, *y;
        if (o == NULL || !json_object_object_get_ex(json_object_array_get_idx(o, 0), "labels", &x))
            abort();
        if (buf[1][0] && (!json_object_object_get_ex(x, "cgroup", &y) ||
                          strcmp(json_object_get_string(y), buf[1]) != 0))
            abort();
        json_object_put(o);
        oomkit__free(json);
    }

    struct oomkit__capture_sample s[8];
    size_t ns = 0;
    while (ns < 8 && pos + sizeof(double) * 5 <= size) {
        double d[5];
        memcpy(d, data + pos, sizeof d);
        pos += sizeof d;
        s[ns++] = (struct oomkit__capture_sample){ d[0], d[1], d[2], d[3], d[4] };
    }
    struct oomkit__capture_mark mk[] = { { v, buf[3] } };
    char *svg = oomkit__capture_svg(s, ns, mk, 1, v);
    if (svg != NULL) {
        if (strncmp(svg, "<svg", 4) != 0)
            abort();
        oomkit__free(svg);
    }
    return 0;
}
