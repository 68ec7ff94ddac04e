/* Lints one YAML stream: loads it document by document with the bounded
 * loader (ynode.h: node lines and columns kept, aliases resolved, nesting
 * and alias expansion capped), hands each document to the walker, and
 * turns a YAML error into an input error that names the line libyaml
 * stopped at. Only one document's tree is in memory at a time, so a
 * 10 000-document `helm template` output costs its bytes (the caller's
 * buffer) plus its largest document. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lint/internal.h"
#include "lint/ynode.h"

/* libyaml reports reader errors (bad UTF-8, control characters) as a byte
 * offset, not a mark: count lines up to it. */
static void offset_to_mark(const char *buf, size_t len, size_t off, uint32_t *line,
                           uint32_t *col)
{
    if (off > len)
        off = len;
    uint32_t l = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *col = (uint32_t)(off - line_start + 1);
}

/* Records the loader's error rc: -EINVAL invalid YAML, -E2BIG input the
 * loader refuses (its message says why), -ENOMEM. */
static int yaml_error(struct oomkit__lint_report *rep, const char *name, const yaml_parser_t *p,
                      const char *buf, size_t len, int rc)
{
    if (rc == -ENOMEM)
        return -ENOMEM;
    char msg[512];
    uint32_t line, col;
    if (rc == -E2BIG) {
        line = (uint32_t)p->problem_mark.line + 1;
        col = (uint32_t)p->problem_mark.column + 1;
        snprintf(msg, sizeof(msg), "%s", p->problem);
    } else if (p->error == YAML_READER_ERROR) {
        offset_to_mark(buf, len, p->problem_offset, &line, &col);
        snprintf(msg, sizeof(msg), "invalid YAML: %s", p->problem ? p->problem : "unreadable");
    } else {
        line = (uint32_t)p->problem_mark.line + 1;
        col = (uint32_t)p->problem_mark.column + 1;
        if (p->context != NULL)
            snprintf(msg, sizeof(msg), "invalid YAML: %s (%s at line %u)",
                     p->problem ? p->problem : "syntax error", p->context,
                     (unsigned)p->context_mark.line + 1);
        else
            snprintf(msg, sizeof(msg), "invalid YAML: %s", p->problem ? p->problem : "syntax error");
    }
    int err = oomkit__lint_report_error(rep, name, line, col, msg);
    return err != 0 ? err : -EINVAL;
}

int oomkit__lint_buffer(const struct oomkit__lint_config *cfg, struct oomkit__lint_report *rep,
                        const char *name, const char *buf, size_t len)
{
    const char *file = oomkit__lint_report_file(rep, name);
    if (file == NULL)
        return -ENOMEM;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    struct oomkit__lint_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = cfg;
    ctx.rep = rep;
    ctx.file = file;
    rep->n_inputs++;
    int rc = 0;
    for (;;) {
        yaml_document_t doc;
        int got = oomkit__ynode_load(&parser, &doc);
        if (got < 0) {
            rc = yaml_error(rep, file, &parser, buf, len, got);
            break;
        }
        if (got == 0)
            break;
        rep->n_documents++;
        ctx.doc = &doc;
        oomkit__lint_walk_document(&ctx);
        yaml_document_delete(&doc);
        if (ctx.status != 0) {
            rc = ctx.status;
            break;
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}
