/* The linter's three output formats: text for people, JSON for scripts and
 * SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, Azure DevOps show
 * SARIF results inline on the changed lines). JSON and SARIF are built
 * with json-c, which does the escaping and number formatting. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lint/lint.h"

#ifndef OOMKIT_VERSION
#define OOMKIT_VERSION "0"
#endif

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

static void count(const struct oomkit__lint_report *rep, size_t by_sev[3])
{
    by_sev[0] = by_sev[1] = by_sev[2] = 0;
    for (size_t i = 0; i < rep->n_findings; i++)
        by_sev[rep->findings[i].severity]++;
}

int oomkit__lint_write_text(FILE *out, const struct oomkit__lint_config *cfg,
                            const struct oomkit__lint_report *rep)
{
    (void)cfg;
    for (size_t i = 0; i < rep->n_findings; i++) {
        const struct oomkit__lint_finding *f = &rep->findings[i];
        fprintf(out, "%s:%u:%u: %s: %s [%s]\n    fix: %s\n", f->file, f->line, f->column,
                oomkit__lint_severity_name(f->severity), f->message, oomkit__lint_rules[f->rule].id,
                f->fix);
    }
    size_t s[3];
    count(rep, s);
    /* Inputs that could not be read are not counted as linted files. */
    fprintf(out,
            "%zu finding%s (%zu error, %zu warning, %zu info) in %zu file%s, %zu document%s, "
            "%zu container%s",
            rep->n_findings, rep->n_findings == 1 ? "" : "s", s[2], s[1], s[0], rep->n_inputs,
            rep->n_inputs == 1 ? "" : "s", rep->n_documents, rep->n_documents == 1 ? "" : "s",
            rep->n_containers, rep->n_containers == 1 ? "" : "s");
    if (rep->n_errors > 0)
        fprintf(out, "; %zu input error%s", rep->n_errors, rep->n_errors == 1 ? "" : "s");
    fputc('\n', out);
    return ferror(out) ? -EIO : 0;
}

/* json-c's add functions take ownership of the value, also on failure;
 * building stops at the first failure and reports -ENOMEM. */
static int add(json_object *obj, const char *key, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    return json_object_object_add(obj, key, val) == 0 ? 0 : -ENOMEM;
}

static int push(json_object *arr, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    if (json_object_array_add(arr, val) != 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

static int emit(FILE *out, json_object *root, int rc)
{
    if (rc == 0) {
        const char *s = json_object_to_json_string_ext(
            root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (s == NULL)
            rc = -ENOMEM;
        else if (fputs(s, out) < 0 || fputc('\n', out) == EOF)
            rc = -EIO;
    }
    json_object_put(root);
    return rc;
}

int oomkit__lint_write_json(FILE *out, const struct oomkit__lint_config *cfg,
                            const struct oomkit__lint_report *rep)
{
    (void)cfg;
    json_object *root = json_object_new_object();
    if (root == NULL)
        return -ENOMEM;
    json_object *findings = json_object_new_array();
    json_object *errors = json_object_new_array();
    json_object *summary = json_object_new_object();
    int rc = add(root, "tool", json_object_new_string("oomkit lint"));
    rc = rc ? rc : add(root, "version", json_object_new_string(OOMKIT_VERSION));
    rc = rc ? rc : add(root, "findings", findings);
    rc = rc ? rc : add(root, "errors", errors);
    rc = rc ? rc : add(root, "summary", summary);
    for (size_t i = 0; rc == 0 && i < rep->n_findings; i++) {
        const struct oomkit__lint_finding *f = &rep->findings[i];
        json_object *o = json_object_new_object();
        rc = push(findings, o);
        rc = rc ? rc : add(o, "file", json_object_new_string(f->file));
        rc = rc ? rc : add(o, "line", json_object_new_int64(f->line));
        rc = rc ? rc : add(o, "column", json_object_new_int64(f->column));
        rc = rc ? rc : add(o, "rule", json_object_new_string(oomkit__lint_rules[f->rule].id));
        rc = rc ? rc
                : add(o, "severity", json_object_new_string(oomkit__lint_severity_name(f->severity)));
        rc = rc ? rc : add(o, "object", json_object_new_string(f->object));
        rc = rc ? rc : add(o, "container", json_object_new_string(f->container));
        rc = rc ? rc : add(o, "message", json_object_new_string(f->message));
        rc = rc ? rc : add(o, "fix", json_object_new_string(f->fix));
    }
    for (size_t i = 0; rc == 0 && i < rep->n_errors; i++) {
        const struct oomkit__lint_error *e = &rep->errors[i];
        json_object *o = json_object_new_object();
        rc = push(errors, o);
        rc = rc ? rc : add(o, "file", json_object_new_string(e->file));
        rc = rc ? rc : add(o, "line", json_object_new_int64(e->line));
        rc = rc ? rc : add(o, "column", json_object_new_int64(e->column));
        rc = rc ? rc : add(o, "message", json_object_new_string(e->message));
    }
    size_t s[3];
    count(rep, s);
    rc = rc ? rc : add(summary, "files", json_object_new_int64((int64_t)rep->n_inputs));
    rc = rc ? rc : add(summary, "documents", json_object_new_int64((int64_t)rep->n_documents));
    rc = rc ? rc : add(summary, "objects", json_object_new_int64((int64_t)rep->n_objects));
    rc = rc ? rc : add(summary, "containers", json_object_new_int64((int64_t)rep->n_containers));
    rc = rc ? rc : add(summary, "findings", json_object_new_int64((int64_t)rep->n_findings));
    rc = rc ? rc : add(summary, "error", json_object_new_int64((int64_t)s[2]));
    rc = rc ? rc : add(summary, "warning", json_object_new_int64((int64_t)s[1]));
    rc = rc ? rc : add(summary, "info", json_object_new_int64((int64_t)s[0]));
    rc = rc ? rc : add(summary, "unreadable", json_object_new_int64((int64_t)rep->n_errors));
    return emit(out, root, rc);
}

static const char *sarif_level(enum oomkit__lint_severity s)
{
    switch (s) {
    case OOMKIT__LINT_INFO: return "note";
    case OOMKIT__LINT_WARNING: return "warning";
    case OOMKIT__LINT_ERROR: return "error";
    }
    return "error";
}

/* A relative URI reference for a path: unreserved characters and '/' stay,
 * everything else is percent-encoded (RFC 3986), so "my dir/a b.yaml"
 * becomes "my%20dir/a%20b.yaml". */
static json_object *uri_of(const char *path)
{
    size_t n = strlen(path);
    char stackbuf[512];
    char *buf = stackbuf, *heap = NULL;
    if (n * 3 + 1 > sizeof(stackbuf)) {
        heap = oomkit__malloc(n * 3 + 1);
        if (heap == NULL)
            return NULL;
        buf = heap;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            buf[o++] = (char)c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    json_object *s = json_object_new_string_len(buf, (int)o);
    oomkit__free(heap);
    return s;
}

static json_object *text_obj(const char *text)
{
    json_object *o = json_object_new_object();
    if (o != NULL && add(o, "text", json_object_new_string(text)) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static int sarif_location(json_object *locations, const char *file, uint32_t line, uint32_t col)
{
    json_object *loc = json_object_new_object();
    int rc = push(locations, loc);
    json_object *phys = json_object_new_object();
    rc = rc ? (json_object_put(phys), rc) : add(loc, "physicalLocation", phys);
    json_object *art = json_object_new_object();
    rc = rc ? (json_object_put(art), rc) : add(phys, "artifactLocation", art);
    rc = rc ? rc : add(art, "uri", uri_of(file));
    if (line > 0) {
        json_object *region = json_object_new_object();
        rc = rc ? (json_object_put(region), rc) : add(phys, "region", region);
        rc = rc ? rc : add(region, "startLine", json_object_new_int64(line));
        rc = rc ? rc : add(region, "startColumn", json_object_new_int64(col > 0 ? col : 1));
    }
    return rc;
}

int oomkit__lint_write_sarif(FILE *out, const struct oomkit__lint_config *cfg,
                             const struct oomkit__lint_report *rep)
{
    json_object *root = json_object_new_object();
    if (root == NULL)
        return -ENOMEM;
    int rc = add(root, "$schema", json_object_new_string(SARIF_SCHEMA));
    rc = rc ? rc : add(root, "version", json_object_new_string("2.1.0"));
    json_object *runs = json_object_new_array();
    rc = rc ? (json_object_put(runs), rc) : add(root, "runs", runs);
    json_object *run = json_object_new_object();
    rc = rc ? (json_object_put(run), rc) : push(runs, run);
    json_object *tool = json_object_new_object();
    rc = rc ? (json_object_put(tool), rc) : add(run, "tool", tool);
    json_object *driver = json_object_new_object();
    rc = rc ? (json_object_put(driver), rc) : add(tool, "driver", driver);
    rc = rc ? rc : add(driver, "name", json_object_new_string("oomkit-lint"));
    rc = rc ? rc : add(driver, "version", json_object_new_string(OOMKIT_VERSION));
    rc = rc ? rc : add(driver, "semanticVersion", json_object_new_string(OOMKIT_VERSION));
    json_object *rules = json_object_new_array();
    rc = rc ? (json_object_put(rules), rc) : add(driver, "rules", rules);
    for (int r = 0; rc == 0 && r < OOMKIT__RULE_COUNT; r++) {
        const struct oomkit__lint_rule_info *info = &oomkit__lint_rules[r];
        json_object *o = json_object_new_object();
        rc = push(rules, o);
        rc = rc ? rc : add(o, "id", json_object_new_string(info->id));
        rc = rc ? rc : add(o, "shortDescription", text_obj(info->summary));
        rc = rc ? rc : add(o, "fullDescription", text_obj(info->summary));
        rc = rc ? rc : add(o, "help", text_obj(info->help));
        json_object *conf = json_object_new_object();
        rc = rc ? (json_object_put(conf), rc) : add(o, "defaultConfiguration", conf);
        rc = rc ? rc : add(conf, "enabled", json_object_new_boolean(cfg->rule[r].enabled));
        rc = rc ? rc
                : add(conf, "level", json_object_new_string(sarif_level(cfg->rule[r].severity)));
    }
    rc = rc ? rc : add(run, "columnKind", json_object_new_string("unicodeCodePoints"));
    json_object *results = json_object_new_array();
    rc = rc ? (json_object_put(results), rc) : add(run, "results", results);
    for (size_t i = 0; rc == 0 && i < rep->n_findings; i++) {
        const struct oomkit__lint_finding *f = &rep->findings[i];
        json_object *o = json_object_new_object();
        rc = push(results, o);
        rc = rc ? rc : add(o, "ruleId", json_object_new_string(oomkit__lint_rules[f->rule].id));
        rc = rc ? rc : add(o, "ruleIndex", json_object_new_int((int)f->rule));
        rc = rc ? rc : add(o, "level", json_object_new_string(sarif_level(f->severity)));
        char text[1200];
        snprintf(text, sizeof(text), "%s. Fix: %s.", f->message, f->fix);
        rc = rc ? rc : add(o, "message", text_obj(text));
        json_object *locs = json_object_new_array();
        rc = rc ? (json_object_put(locs), rc) : add(o, "locations", locs);
        rc = rc ? rc : sarif_location(locs, f->file, f->line, f->column);
    }
    json_object *invs = json_object_new_array();
    rc = rc ? (json_object_put(invs), rc) : add(run, "invocations", invs);
    json_object *inv = json_object_new_object();
    rc = rc ? (json_object_put(inv), rc) : push(invs, inv);
    rc = rc ? rc : add(inv, "executionSuccessful", json_object_new_boolean(rep->n_errors == 0));
    json_object *notes = json_object_new_array();
    rc = rc ? (json_object_put(notes), rc) : add(inv, "toolExecutionNotifications", notes);
    for (size_t i = 0; rc == 0 && i < rep->n_errors; i++) {
        const struct oomkit__lint_error *e = &rep->errors[i];
        json_object *o = json_object_new_object();
        rc = push(notes, o);
        rc = rc ? rc : add(o, "level", json_object_new_string("error"));
        rc = rc ? rc : add(o, "message", text_obj(e->message));
        json_object *locs = json_object_new_array();
        rc = rc ? (json_object_put(locs), rc) : add(o, "locations", locs);
        rc = rc ? rc : sarif_location(locs, e->file, e->line, e->column);
    }
    return emit(out, root, rc);
}
