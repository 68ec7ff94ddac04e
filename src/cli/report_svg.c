/* `oomkit report --svg out.svg`: a self-contained interactive flame graph.
 *
 * Stacks are merged into a tree from the root (bottom) to the leaf (top);
 * each node's width is its share of the chosen sample type. The file has no
 * external references: a small inline script shows a node's bytes and share
 * on hover and zooms into a node on click (its ancestors stretch to the full
 * width, everything outside its subtree is hidden; click the bottom bar or
 * press Escape to reset). Written by hand because no Debian library draws
 * flame graphs and the format is simple. */
#include "cli/report.h"
#include "core/file_replace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct node {
    const char *name; /* owned by the profile */
    int64_t value;
    struct node *child, *next;
};

struct tree_ctx {
    struct node *root;
    int type;
    int err;
};

static struct node *child_of(struct node *parent, const char *name)
{
    for (struct node *c = parent->child; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    struct node *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->name = name;
    c->next = parent->child;
    parent->child = c;
    return c;
}

static int add_stack(void *ctx, const struct oomkit__pprof_sample *s,
                     const struct oomkit__pprof_frame *frames, size_t n)
{
    struct tree_ctx *c = ctx;
    int64_t v = s->values[c->type];
    if (v <= 0)
        return 0;
    struct node *at = c->root;
    at->value += v;
    for (size_t i = n; i-- > 0;) {
        at = child_of(at, frames[i].function);
        if (at == NULL)
            return -ENOMEM;
        at->value += v;
    }
    return 0;
}

static int depth_of(const struct node *n)
{
    int d = 0;
    for (const struct node *c = n->child; c != NULL; c = c->next) {
        int k = depth_of(c);
        if (k > d)
            d = k;
    }
    return d + 1;
}

static void free_tree(struct node *n)
{
    while (n != NULL) {
        struct node *next = n->next;
        free_tree(n->child);
        free(n);
        n = next;
    }
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

enum { WIDTH_PX = 1200, ROW_PX = 17, TOP_PX = 40 };

struct emit {
    FILE *f;
    int64_t total;
    int rows;
    const char *unit;
};

static void emit_node(struct emit *e, const struct node *n, double x, int depth)
{
    double w = (double)n->value / (double)e->total;
    double px = w * WIDTH_PX;
    if (px < 0.3)
        return; /* invisible at full width; still reachable by zooming its parent */
    unsigned h = 2166136261u;
    for (const char *s = n->name; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    int red = 205 + (int)(h % 50), green = 80 + (int)((h >> 8) % 130), blue = (int)((h >> 16) % 55);
    char val[32];
    report_human(val, sizeof(val), n->value, e->unit);
    double y = TOP_PX + (double)(e->rows - depth - 1) * ROW_PX;
    fprintf(e->f, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-v=\"%s\" "
                  "data-p=\"%.2f\"><title>", x, w, depth, val, 100.0 * w);
    xml_text(e->f, n->name);
    fprintf(e->f, " (%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
                  "fill=\"rgb(%d,%d,%d)\" rx=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
            val, 100.0 * w, x * WIDTH_PX, y, px, ROW_PX - 1, red, green, blue, x * WIDTH_PX + 3,
            y + ROW_PX - 5);
    fputs("</text><desc>", e->f);
    xml_text(e->f, n->name);
    fputs("</desc></g>\n", e->f);
    /* Children are laid out left to right in name order for stable output. */
    size_t k = 0;
    for (const struct node *c = n->child; c != NULL; c = c->next)
        k++;
    const struct node **kids = calloc(k ? k : 1, sizeof(*kids));
    if (kids == NULL)
        return;
    k = 0;
    for (const struct node *c = n->child; c != NULL; c = c->next)
        kids[k++] = c;
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(kids[j - 1]->name, kids[j]->name) > 0; j--) {
            const struct node *t = kids[j];
            kids[j] = kids[j - 1];
            kids[j - 1] = t;
        }
    double cx = x;
    for (size_t i = 0; i < k; i++) {
        emit_node(e, kids[i], cx, depth + 1);
        cx += (double)kids[i]->value / (double)e->total;
    }
    free(kids);
}

static const char script[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "var W=1200, info=document.getElementById('info');\n"
    "function fit(g, x, w){ var r=g.querySelector('rect'), t=g.querySelector('text'),\n"
    "  name=g.querySelector('desc').textContent; r.setAttribute('x', x); r.setAttribute('width', w);\n"
    "  t.setAttribute('x', x+3); var n=Math.floor((w-6)/7);\n"
    "  t.textContent = n<3 ? '' : (name.length<=n ? name : name.substring(0,n-2)+'..');\n"
    "  g.style.display=''; }\n"
    "function zoom(z){ var zx=+z.dataset.x, zw=+z.dataset.w, zd=+z.dataset.d;\n"
    "  document.querySelectorAll('g.f').forEach(function(g){ var x=+g.dataset.x, w=+g.dataset.w, d=+g.dataset.d;\n"
    "    if (d<zd) { if (x<=zx+1e-12 && x+w>=zx+zw-1e-12) fit(g,0,W); else g.style.display='none'; }\n"
    "    else if (x>=zx-1e-12 && x+w<=zx+zw+1e-12) fit(g,(x-zx)/zw*W,w/zw*W);\n"
    "    else g.style.display='none'; }); }\n"
    "document.querySelectorAll('g.f').forEach(function(g){\n"
    "  fit(g, +g.dataset.x*W, +g.dataset.w*W);\n"
    "  g.addEventListener('click', function(){ zoom(g); });\n"
    "  g.addEventListener('mouseover', function(){ info.textContent=g.querySelector('desc').textContent+\n"
    "    '  '+g.dataset.v+'  ('+g.dataset.p+'% of total)'; });\n"
    "  g.addEventListener('mouseout', function(){ info.textContent=' '; }); });\n"
    "document.addEventListener('keydown', function(e){ if (e.key==='Escape') zoom(document.querySelector('g.f')); });\n"
    "]]></script>\n";

int report_svg_write(const char *path, const struct oomkit__pprof_profile *p, int type)
{
    struct node root = { "all", 0, NULL, NULL };
    struct tree_ctx c = { &root, type, 0 };
    int err = oomkit__pprof_walk(p, add_stack, &c);
    if (err != 0) {
        free_tree(root.child);
        return err;
    }
    oomkit__file_replace out;
    FILE *f = oomkit__fopen_replace(&out, path);
    if (f == NULL) {
        err = -errno;
        free_tree(root.child);
        return err;
    }
    int rows = depth_of(&root);
    int height = TOP_PX + rows * ROW_PX + 10;
    const char *tname = oomkit__pprof_str(p, p->sample_types[type].type);
    const char *unit = oomkit__pprof_str(p, p->sample_types[type].unit);
    char total[32];
    report_human(total, sizeof(total), root.value, unit);
    fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
               "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\">\n"
               "<style>text{font:12px monospace;fill:#000;pointer-events:none}"
               "g.f:hover rect{stroke:#000;stroke-width:0.6}g.f{cursor:pointer}</style>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
               "<text x=\"6\" y=\"16\" style=\"font-size:15px\">oomkit flame graph: ",
            WIDTH_PX, height, WIDTH_PX, height);
    xml_text(f, tname);
    fprintf(f, ", total %s%s (click to zoom, Esc to reset)</text>\n"
               "<text id=\"info\" x=\"6\" y=\"33\"> </text>\n",
            total, p->period > 1 ? " (sampled estimate)" : "");
    if (root.value > 0) {
        struct emit e = { f, root.value, rows, unit };
        emit_node(&e, &root, 0, 0);
    }
    fputs(script, f);
    fputs("</svg>\n", f);
    err = oomkit__fclose_replace(&out, f, 1);
    free_tree(root.child);
    return err;
}
