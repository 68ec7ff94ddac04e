/* The linter's walker: finds every container in one YAML document and
 * reads its memory facts for the rules.
 *
 * A document is a Kubernetes object or a List of them (kind "List" or any
 * "<Kind>List", nested up to LIST_DEPTH_MAX). Pods carry containers in
 * spec; Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * ReplicationController and Job in spec.template.spec; CronJob in
 * spec.jobTemplate.spec.template.spec; PodTemplate in template.spec. Other
 * kinds (Services, ConfigMaps, custom resources) are skipped silently. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lint/internal.h"
#include "lint/quantity.h"
#include "lint/ynode.h"

/* Lists of Lists are legal; aliases could make them self-referential,
 * so their depth is bounded. */
#define LIST_DEPTH_MAX 4

static bool str_is(oomkit_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.ptr != NULL && s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static bool is_seq(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SEQUENCE_NODE;
}

static void read_mem(struct oomkit__lint_ctx *ctx, yaml_node_t *section,
                     struct oomkit__lint_mem *m)
{
    memset(m, 0, sizeof(*m));
    yaml_node_t *v = oomkit__ynode_get(ctx->doc, section, "memory", NULL);
    if (oomkit__ynode_is_null(v))
        return;
    m->node = v;
    m->state = OOMKIT__MEM_INVALID;
    if (v->type != YAML_SCALAR_NODE) {
        m->err = 2;
        return;
    }
    oomkit_str s = oomkit__ynode_str(v);
    bool whole = false;
    int rc = oomkit__lint_quantity_parse(s.ptr, s.len, &m->bytes, &whole);
    if (rc != 0)
        m->err = rc;
    else if (!whole)
        m->err = 1;
    else
        m->state = OOMKIT__MEM_OK;
}

static void read_env(struct oomkit__lint_ctx *ctx, struct oomkit__lint_container *c)
{
    yaml_node_t *env = oomkit__ynode_get(ctx->doc, c->node, "env", NULL);
    if (!is_seq(env))
        return;
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        { "GOMEMLIMIT", offsetof(struct oomkit__lint_container, gomemlimit) },
        { "GOGC", offsetof(struct oomkit__lint_container, gogc) },
        { "JAVA_TOOL_OPTIONS", offsetof(struct oomkit__lint_container, java_tool_options) },
        { "JDK_JAVA_OPTIONS", offsetof(struct oomkit__lint_container, jdk_java_options) },
        { "JAVA_OPTS", offsetof(struct oomkit__lint_container, java_opts) },
        { "OOMKIT_PROF", offsetof(struct oomkit__lint_container, oomkit_prof) },
    };
    for (yaml_node_item_t *it = env->data.sequence.items.start; it < env->data.sequence.items.top;
         it++) {
        yaml_node_t *item = oomkit__ynode_at(ctx->doc, *it);
        yaml_node_t *name = oomkit__ynode_get(ctx->doc, item, "name", NULL);
        if (name == NULL || name->type != YAML_SCALAR_NODE)
            continue;
        for (size_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++) {
            if (!oomkit__ynode_eq(name, wanted[w].name))
                continue;
            struct oomkit__lint_env *e =
                (struct oomkit__lint_env *)((char *)c + wanted[w].off);
            e->item = item;
            e->value = oomkit__ynode_get(ctx->doc, item, "value", NULL);
            e->value_from = oomkit__ynode_get(ctx->doc, item, "valueFrom", NULL);
            if (e->value != NULL && e->value->type != YAML_SCALAR_NODE)
                e->value = NULL;
            if (e->value_from != NULL && e->value_from->type != YAML_MAPPING_NODE)
                e->value_from = NULL;
            break;
        }
    }
}

/* oomkit.dev/runtime.<container> wins over oomkit.dev/runtime, and the pod
 * template's annotations over the object's. */
static oomkit_str runtime_of(struct oomkit__lint_ctx *ctx, oomkit_str name)
{
    char key[320];
    snprintf(key, sizeof(key), "oomkit.dev/runtime.%.*s", (int)(name.len > 250 ? 250 : name.len),
             name.ptr ? name.ptr : "");
    for (int pass = 0; pass < 2; pass++) {
        for (int a = 1; a >= 0; a--) {
            yaml_node_t *v = oomkit__ynode_get(ctx->doc, ctx->annotations[a],
                                               pass == 0 ? key : "oomkit.dev/runtime", NULL);
            if (v != NULL && v->type == YAML_SCALAR_NODE)
                return oomkit__ynode_str(v);
        }
    }
    return (oomkit_str){ NULL, 0 };
}

static void check_containers(struct oomkit__lint_ctx *ctx, yaml_node_t *pod_spec, const char *key,
                             bool init)
{
    yaml_node_t *seq = oomkit__ynode_get(ctx->doc, pod_spec, key, NULL);
    if (!is_seq(seq))
        return;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *node = oomkit__ynode_at(ctx->doc, *it);
        if (node == NULL || node->type != YAML_MAPPING_NODE)
            continue;
        struct oomkit__lint_container c;
        memset(&c, 0, sizeof(c));
        c.node = node;
        c.init = init;
        c.name = oomkit__ynode_str(oomkit__ynode_get(ctx->doc, node, "name", NULL));
        yaml_node_t *res = oomkit__ynode_get(ctx->doc, node, "resources", &c.resources_key);
        if (res != NULL && res->type == YAML_MAPPING_NODE) {
            c.resources = res;
            yaml_node_t *req = oomkit__ynode_get(ctx->doc, res, "requests", &c.requests_key);
            yaml_node_t *lim = oomkit__ynode_get(ctx->doc, res, "limits", &c.limits_key);
            read_mem(ctx, req, &c.request);
            read_mem(ctx, lim, &c.limit);
        } else {
            c.resources_key = NULL;
        }
        read_env(ctx, &c);
        c.command = oomkit__ynode_get(ctx->doc, node, "command", NULL);
        c.args = oomkit__ynode_get(ctx->doc, node, "args", NULL);
        if (!is_seq(c.command))
            c.command = NULL;
        if (!is_seq(c.args))
            c.args = NULL;
        c.runtime = runtime_of(ctx, c.name);
        ctx->rep->n_containers++;
        oomkit__lint_check_container(ctx, &c);
    }
}

/* oomkit.dev/lint-ignore: "rule-a, rule-b" or "all", on the object or its
 * pod template, silences rules for that object. */
static unsigned ignored_rules(struct oomkit__lint_ctx *ctx)
{
    unsigned mask = 0;
    for (int a = 0; a < 2; a++) {
        oomkit_str v = oomkit__ynode_str(
            oomkit__ynode_get(ctx->doc, ctx->annotations[a], "oomkit.dev/lint-ignore", NULL));
        size_t i = 0;
        while (i < v.len) {
            while (i < v.len && (v.ptr[i] == ',' || v.ptr[i] == ' '))
                i++;
            size_t start = i;
            while (i < v.len && v.ptr[i] != ',' && v.ptr[i] != ' ')
                i++;
            if (i == start)
                break;
            oomkit_str word = { v.ptr + start, i - start };
            if (str_is(word, "all")) {
                mask = ~0u;
            } else {
                int r = oomkit__lint_rule_by_id(word.ptr, word.len);
                if (r >= 0)
                    mask |= 1u << r;
            }
        }
    }
    return mask;
}

static bool kind_has_template(oomkit_str kind)
{
    static const char *kinds[] = { "Deployment", "StatefulSet", "DaemonSet",
                                   "ReplicaSet", "ReplicationController", "Job" };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (str_is(kind, kinds[i]))
            return true;
    }
    return false;
}

static void visit_object(struct oomkit__lint_ctx *ctx, yaml_node_t *node, int depth)
{
    yaml_document_t *d = ctx->doc;
    if (node == NULL || node->type != YAML_MAPPING_NODE)
        return;
    oomkit_str kind = oomkit__ynode_str(oomkit__ynode_get(d, node, "kind", NULL));
    if (kind.len >= 4 && memcmp(kind.ptr + kind.len - 4, "List", 4) == 0) {
        yaml_node_t *items = oomkit__ynode_get(d, node, "items", NULL);
        if (!is_seq(items) || depth >= LIST_DEPTH_MAX)
            return;
        for (yaml_node_item_t *it = items->data.sequence.items.start;
             it < items->data.sequence.items.top && ctx->status == 0; it++)
            visit_object(ctx, oomkit__ynode_at(d, *it), depth + 1);
        return;
    }
    yaml_node_t *meta = oomkit__ynode_get(d, node, "metadata", NULL);
    yaml_node_t *spec = oomkit__ynode_get(d, node, "spec", NULL);
    yaml_node_t *tmpl = NULL, *pod_spec = NULL;
    if (str_is(kind, "Pod")) {
        pod_spec = spec;
    } else if (kind_has_template(kind)) {
        tmpl = oomkit__ynode_get(d, spec, "template", NULL);
    } else if (str_is(kind, "CronJob")) {
        yaml_node_t *jt = oomkit__ynode_get(d, spec, "jobTemplate", NULL);
        tmpl = oomkit__ynode_get(d, oomkit__ynode_get(d, jt, "spec", NULL), "template", NULL);
    } else if (str_is(kind, "PodTemplate")) {
        tmpl = oomkit__ynode_get(d, node, "template", NULL);
    } else {
        return;
    }
    if (tmpl != NULL)
        pod_spec = oomkit__ynode_get(d, tmpl, "spec", NULL);
    if (pod_spec == NULL || pod_spec->type != YAML_MAPPING_NODE)
        return;
    ctx->rep->n_objects++;

    oomkit_str name = oomkit__ynode_str(oomkit__ynode_get(d, meta, "name", NULL));
    if (name.ptr == NULL)
        name = oomkit__ynode_str(oomkit__ynode_get(d, meta, "generateName", NULL));
    snprintf(ctx->object, sizeof(ctx->object), "%.*s/%.*s", (int)(kind.len > 60 ? 60 : kind.len),
             kind.ptr, (int)(name.len > 120 ? 120 : name.len), name.ptr ? name.ptr : "");
    ctx->annotations[0] = oomkit__ynode_get(d, meta, "annotations", NULL);
    ctx->annotations[1] = oomkit__ynode_get(
        d, oomkit__ynode_get(d, tmpl, "metadata", NULL), "annotations", NULL);
    ctx->ignored = ignored_rules(ctx);

    check_containers(ctx, pod_spec, "initContainers", true);
    check_containers(ctx, pod_spec, "containers", false);
}

void oomkit__lint_walk_document(struct oomkit__lint_ctx *ctx)
{
    visit_object(ctx, yaml_document_get_root_node(ctx->doc), 0);
}
