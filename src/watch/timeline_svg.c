/* timeline.svg of a capture: working set against the limit, the prediction
 * from the last sample to the limit, and the rule crossings. SVG is plain
 * text and the chart is one polyline and a few lines, so it is written by
 * hand rather than through a drawing library. */
#include "watch/capture.h"

#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 800.0
#define H 300.0
#define PAD_L 70.0
#define PAD_R 20.0
#define PAD_T 20.0
#define PAD_B 40.0

char *oomkit__capture_svg(const struct oomkit__capture_sample *s, size_t n,
                          const struct oomkit__capture_mark *marks, size_t n_marks,
                          double predicted_oom_s)
{
    size_t cap = 2048 + n * 24 + n_marks * 200;
    char *out = oomkit__malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = 0;
#define EMIT(...)                                                              \
    do {                                                                       \
        int k_ = snprintf(out + len, cap - len, __VA_ARGS__);                  \
        if (k_ > 0)                                                            \
            len = len + (size_t)k_ < cap ? len + (size_t)k_ : cap - 1;         \
    } while (0)
    EMIT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
         "font-family=\"sans-serif\" font-size=\"11\">\n"
         "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    if (n == 0) {
        EMIT("<text x=\"20\" y=\"40\">no samples</text>\n</svg>\n");
        return out;
    }
    double t0 = s[0].t_unix_s, t1 = s[n - 1].t_unix_s, ymax = 1;
    double limit = s[n - 1].limit_bytes;
    int show_pred = isfinite(predicted_oom_s) && predicted_oom_s >= 0 && limit > 0;
    double tpred = t1 + (show_pred ? predicted_oom_s : 0);
    double tend = t1 > t0 ? t1 : t0 + 1;
    if (show_pred && tpred > tend)
        tend = tpred < t1 + 2 * (t1 - t0) + 1 ? tpred : t1 + 2 * (t1 - t0) + 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i].working_set_bytes > ymax)
            ymax = s[i].working_set_bytes;
        if (s[i].limit_bytes > ymax && isfinite(s[i].limit_bytes))
            ymax = s[i].limit_bytes;
    }
    ymax *= 1.05;
    const double pw = W - PAD_L - PAD_R, ph = H - PAD_T - PAD_B;
#define X(t) (PAD_L + ((t) - t0) / (tend - t0) * pw)
#define Y(v) (PAD_T + ph - (v) / ymax * ph)
    EMIT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
         PAD_L, PAD_T + ph, PAD_L + pw, PAD_T + ph);
    EMIT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
         PAD_L, PAD_T, PAD_L, PAD_T + ph);
    EMIT("<text x=\"5\" y=\"%.1f\">%.0f MiB</text>\n", PAD_T + 10, ymax / 1048576.0);
    EMIT("<text x=\"5\" y=\"%.1f\">0</text>\n", PAD_T + ph);
    EMIT("<text x=\"%.1f\" y=\"%.1f\">time (s), %.1f s shown</text>\n", PAD_L, H - 10, tend - t0);
    if (limit > 0 && isfinite(limit)) {
        EMIT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"red\" "
             "stroke-dasharray=\"6 3\"/>\n", PAD_L, Y(limit), PAD_L + pw, Y(limit));
        EMIT("<text x=\"%.1f\" y=\"%.1f\" fill=\"red\">limit %.0f MiB</text>\n",
             PAD_L + pw - 120, Y(limit) - 4, limit / 1048576.0);
    }
    EMIT("<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < n; i++)
        EMIT("%.1f,%.1f ", X(s[i].t_unix_s), Y(s[i].working_set_bytes));
    EMIT("\"/>\n");
    if (show_pred) {
        /* The trend line from the last sample to where it meets the limit
         * (clipped to the chart when the crossing is far away). */
        double te = tpred <= tend ? tpred : tend;
        double frac = predicted_oom_s > 0 ? (te - t1) / predicted_oom_s : 1;
        double ve = s[n - 1].working_set_bytes + frac * (limit - s[n - 1].working_set_bytes);
        EMIT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"orange\" "
             "stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\n",
             X(t1), Y(s[n - 1].working_set_bytes), X(te), Y(ve));
        EMIT("<text x=\"%.1f\" y=\"%.1f\" fill=\"darkorange\">predicted OOM in %.1f s</text>\n",
             X(t1) > PAD_L + pw - 160 ? PAD_L + pw - 160 : X(t1), PAD_T + 12, predicted_oom_s);
    }
    for (size_t i = 0; i < n_marks; i++) {
        double x = X(marks[i].t_unix_s);
        if (x < PAD_L || x > PAD_L + pw)
            continue;
        EMIT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\"/>\n",
             x, PAD_T, x, PAD_T + ph);
        /* Mark names come from the daemon's fixed rule names; no escaping
         * is needed, but refuse anything that is not plain. */
        const char *w = marks[i].what ? marks[i].what : "";
        if (strpbrk(w, "<>&\"") != NULL)
            w = "?";
        EMIT("<text x=\"%.1f\" y=\"%.1f\" fill=\"gray\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
             x + 10, PAD_T + ph - 4, x + 10, PAD_T + ph - 4, w);
    }
    EMIT("</svg>\n");
    return out;
#undef X
#undef Y
#undef EMIT
}
