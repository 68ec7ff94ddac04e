/* Unit tests of the linter's rules, walker, config file, YAML errors and
 * output formats, each on small inline manifests: for every rule at least
 * one case that must fire (at the right line) and one that must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint_test_util.h"
#include "oomkit/common.h"

/* A Pod whose single container "c" has the given resources and env
 * blocks (already indented for the container), lines 1-6 fixed:
 *   1 kind: Pod / 2 metadata / 3 name / 4 spec / 5 containers / 6 - name: c
 * so the resources/env text starts on line 7. */
static struct oomkit__lint_report *pod(const struct oomkit__lint_config *cfg, const char *body)
{
    static char text[8192];
    snprintf(text, sizeof(text),
             "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n%s", body);
    int rc = 0;
    struct oomkit__lint_report *rep = lint_text(cfg, text, &rc);
    assert_non_null(rep);
    assert_int_equal(rc, 0);
    return rep;
}

#define RES(req, lim)                                                                      \
    "      resources:\n        requests: {memory: " req "}\n        limits: {memory: " lim \
    "}\n"

static void expect_only(struct oomkit__lint_report *rep, int rule, size_t n)
{
    if (count_rule(rep, -1) != n || count_rule(rep, rule) != n)
        dump_report(rep);
    assert_int_equal(count_rule(rep, rule), n);
    assert_int_equal(count_rule(rep, -1), n);
}

static void test_missing_request_and_limit(void **state)
{
    (void)state;
    struct oomkit__lint_report *rep = pod(NULL, "      image: x\n");
    assert_int_equal(count_rule(rep, OOMKIT__RULE_REQUEST_MISSING), 1);
    assert_int_equal(count_rule(rep, OOMKIT__RULE_LIMIT_MISSING), 1);
    const struct oomkit__lint_finding *f = find_rule(rep, OOMKIT__RULE_LIMIT_MISSING, 6);
    assert_non_null(f);
    assert_int_equal(f->column, 7); /* "    - name": the mapping starts at "name" */
    assert_int_equal(f->severity, OOMKIT__LINT_ERROR);
    assert_string_equal(f->object, "Pod/p");
    assert_string_equal(f->container, "c");
    oomkit__lint_report_free(rep);

    /* Only a limit: the request is missing, reported at resources:. */
    rep = pod(NULL, "      resources:\n        limits: {memory: 1Gi}\n");
    expect_only(rep, OOMKIT__RULE_REQUEST_MISSING, 1);
    assert_int_equal(rep->findings[0].line, 7);
    assert_non_null(strstr(rep->findings[0].fix, "788Mi")); /* ceil(1Gi / 1.3) in Mi */
    oomkit__lint_report_free(rep);

    /* Only a request, limits has cpu only: reported at limits:. */
    rep = pod(NULL, "      resources:\n        requests: {memory: 1Gi}\n        limits: {cpu: 1}\n");
    expect_only(rep, OOMKIT__RULE_LIMIT_MISSING, 1);
    assert_int_equal(rep->findings[0].line, 9);
    oomkit__lint_report_free(rep);

    /* A null memory is absent, as Kubernetes treats it. */
    rep = pod(NULL, RES("null", "1Gi"));
    expect_only(rep, OOMKIT__RULE_REQUEST_MISSING, 1);
    oomkit__lint_report_free(rep);

    /* Negative: both set, equal. */
    rep = pod(NULL, RES("1Gi", "1Gi"));
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
}

static void test_ratio(void **state)
{
    (void)state;
    struct oomkit__lint_report *rep = pod(NULL, RES("1Gi", "2Gi"));
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    assert_int_equal(rep->findings[0].line, 9);
    assert_int_equal(rep->findings[0].column, 26);
    assert_non_null(strstr(rep->findings[0].message, "2x"));
    assert_non_null(strstr(rep->findings[0].fix, "1576Mi")); /* ceil(2Gi / 1.3) */
    assert_non_null(strstr(rep->findings[0].fix, "1331Mi")); /* floor(1Gi * 1.3) */
    oomkit__lint_report_free(rep);

    /* Exactly 1.3 passes, one byte more fails. */
    rep = pod(NULL, RES("1000000000", "1300000000"));
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1000000000", "1300000001"));
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    oomkit__lint_report_free(rep);

    /* Limit below request: rejected by the API server. */
    rep = pod(NULL, RES("2Gi", "1Gi"));
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    assert_non_null(strstr(rep->findings[0].message, "below the request"));
    oomkit__lint_report_free(rep);

    /* Zero request with a limit. */
    rep = pod(NULL, RES("\"0\"", "1Mi"));
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    oomkit__lint_report_free(rep);

    /* Different spellings of equal values. */
    rep = pod(NULL, RES("1e9", "1G"));
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* A zero limit means no limit to Kubernetes: its own finding, and no
     * runtime rule compares against it ("GOMEMLIMIT is 0% of the 0
     * limit"). */
    rep = pod(NULL, "      resources: {limits: {memory: 0}}\n"
                    "      env: [{name: GOMEMLIMIT, value: 900MiB}]\n");
    if (count_rule(rep, -1) != 2)
        dump_report(rep);
    assert_int_equal(count_rule(rep, -1), 2);
    assert_int_equal(count_rule(rep, OOMKIT__RULE_REQUEST_MISSING), 1);
    const struct oomkit__lint_finding *zero = find_rule(rep, OOMKIT__RULE_LIMIT_MISSING, 7);
    assert_non_null(zero);
    assert_int_equal(zero->column, 36);
    assert_non_null(strstr(zero->message, "memory limit 0 means no limit"));
    /* The request fix must not be derived from the zero limit. */
    assert_null(strstr(find_rule(rep, OOMKIT__RULE_REQUEST_MISSING, 0)->fix, "at least 0"));
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("0", "0"));
    expect_only(rep, OOMKIT__RULE_LIMIT_MISSING, 1);
    oomkit__lint_report_free(rep);
    /* With a request above it, the API server rejects the pair: one
     * finding, from the ratio rule. */
    rep = pod(NULL, RES("1Gi", "0"));
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    assert_non_null(strstr(rep->findings[0].message, "below the request"));
    oomkit__lint_report_free(rep);

    /* Re-tuned: 2.0 allowed. */
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char err[256];
    const char *yaml = "rules:\n  memory-limit-request-ratio: {max-ratio: 2}\n";
    assert_int_equal(oomkit__lint_config_load(&cfg, yaml, strlen(yaml), err, sizeof(err)), 0);
    rep = pod(&cfg, RES("1Gi", "2Gi"));
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
}

static void test_quantity_rule(void **state)
{
    (void)state;
    static const char *bad[] = { "512MB", "1gi", "\"2 Gi\"", "2GiB", "-1Gi", "100Ei", "400m",
                                 "1.1Ki", "\"\"", "[1, Gi]", "1e" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), RES("%s", "1Gi"), bad[i]);
        struct oomkit__lint_report *rep = pod(NULL, body);
        expect_only(rep, OOMKIT__RULE_QUANTITY, 1);
        assert_int_equal(rep->findings[0].line, 8);
        assert_int_equal(rep->findings[0].severity, OOMKIT__LINT_ERROR);
        oomkit__lint_report_free(rep);
    }
    /* A suggested spelling for the common typos. */
    struct oomkit__lint_report *rep = pod(NULL, RES("1Gi", "512MB"));
    assert_non_null(strstr(rep->findings[0].fix, "\"512M\""));
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1gi", "1Gi"));
    assert_non_null(strstr(rep->findings[0].fix, "\"1Gi\""));
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("400m", "1Gi"));
    assert_non_null(strstr(rep->findings[0].fix, "400Mi"));
    oomkit__lint_report_free(rep);
    /* Negative: every valid form. */
    static const char *good[] = { "1073741824", "1Gi", "1048576Ki", "1.0Gi", "0.5Gi", "1e9",
                                  "1E9", "1G", "1000M", "+1Gi", "1000000000000m", "1.2e9" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), RES("%s", "%s"), good[i], good[i]);
        rep = pod(NULL, body);
        expect_only(rep, -1, 0);
        oomkit__lint_report_free(rep);
    }
}

static void test_go_memlimit(void **state)
{
    (void)state;
    /* GOGC without GOMEMLIMIT: reported at the GOGC entry (line 11). */
    struct oomkit__lint_report *rep =
        pod(NULL, RES("1Gi", "1Gi") "      env:\n        - name: GOGC\n          value: \"100\"\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    assert_int_equal(rep->findings[0].line, 11);
    assert_non_null(strstr(rep->findings[0].fix, "GOMEMLIMIT=921MiB"));
    oomkit__lint_report_free(rep);

    /* Too high: 1000MiB of 1Gi is 97.7 %. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: 1000MiB}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    assert_non_null(strstr(rep->findings[0].message, "97.7%"));
    oomkit__lint_report_free(rep);

    /* At 90 % exactly (floor of 966367641.6 bytes) passes; one byte more fails. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: \"966367641\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: \"966367642\"}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    oomkit__lint_report_free(rep);

    /* Later entries override earlier ones, as in Kubernetes. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: 2GiB}\n"
                                      "        - {name: GOMEMLIMIT, value: 900MiB}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Invalid Go syntax and off. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: 900M}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: \"off\"}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    oomkit__lint_report_free(rep);

    /* Empty is unset to Go; a bare small number is bytes to Go. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: \"\"}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    assert_non_null(strstr(rep->findings[0].message, "empty"));
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: \"900\"}\n");
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    assert_non_null(strstr(rep->findings[0].fix, "GOMEMLIMIT=900MiB"));
    oomkit__lint_report_free(rep);
    /* A $(VAR) reference is expanded by Kubernetes: not checked. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: LIM, value: 2GiB}\n"
                                      "        - {name: GOMEMLIMIT, value: $(LIM)}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Not a Go container: no GOMEMLIMIT needed. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: GOPATH, value: /go}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Annotation detection, pod-wide and per container. */
    const char *annotated =
        "kind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata:\n"
        "      annotations: {oomkit.dev/runtime.api: go}\n    spec:\n      containers:\n"
        "        - name: api\n          resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n"
        "        - name: web\n          resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n";
    rep = lint_text(NULL, annotated, NULL);
    expect_only(rep, OOMKIT__RULE_GO_MEMLIMIT, 1);
    assert_string_equal(rep->findings[0].container, "api");
    oomkit__lint_report_free(rep);

    /* Re-tuned share: 95 % allows 1000MiB... of 1Gi is 97.7 %: still over. */
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char err[256];
    const char *yaml = "rules:\n  go-memlimit:\n    max-percent: 98\n";
    assert_int_equal(oomkit__lint_config_load(&cfg, yaml, strlen(yaml), err, sizeof(err)), 0);
    rep = pod(&cfg, RES("1Gi", "1Gi") "      env:\n        - {name: GOMEMLIMIT, value: 1000MiB}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
}

static void test_jvm_caps(void **state)
{
    (void)state;
    /* Heap capped, direct memory not: the incident. */
    struct oomkit__lint_report *rep =
        pod(NULL, RES("2Gi", "2Gi") "      env:\n        - {name: JAVA_TOOL_OPTIONS, value: -Xmx1536m}\n");
    expect_only(rep, OOMKIT__RULE_JVM_CAPS, 1);
    assert_non_null(strstr(rep->findings[0].message, "direct memory is not capped"));
    oomkit__lint_report_free(rep);

    /* Both capped, sum under the limit. */
    rep = pod(NULL, RES("2Gi", "2Gi") "      env:\n        - {name: JAVA_OPTS, value: \"-Xmx1g "
                                      "-XX:MaxDirectMemorySize=512m\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Sum equal to the limit is not under it. */
    rep = pod(NULL, RES("2Gi", "2Gi") "      args: [\"-Xmx1536m\", \"-XX:MaxDirectMemorySize=512m\"]\n");
    expect_only(rep, OOMKIT__RULE_JVM_CAPS, 1);
    assert_non_null(strstr(rep->findings[0].message, "2Gi is not under"));
    oomkit__lint_report_free(rep);

    /* Command line overrides JAVA_TOOL_OPTIONS; -Xmx beats MaxRAMPercentage. */
    rep = pod(NULL, RES("2Gi", "2Gi")
              "      env:\n        - {name: JAVA_TOOL_OPTIONS, value: -Xmx4g -XX:MaxDirectMemorySize=4g}\n"
              "      command: [sh, -c, \"exec java -XX:MaxRAMPercentage=90 -Xmx1g "
              "-XX:MaxDirectMemorySize=256m -jar app.jar\"]\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* MaxRAMPercentage is a share of the limit: 75 % of 1Gi + 300m > 1Gi. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: JDK_JAVA_OPTIONS, value: "
                                      "-XX:MaxRAMPercentage=75 -XX:MaxDirectMemorySize=300m}\n");
    expect_only(rep, OOMKIT__RULE_JVM_CAPS, 1);
    oomkit__lint_report_free(rep);

    /* A java command with no caps. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      command: [/usr/bin/java, -jar, app.jar]\n");
    expect_only(rep, OOMKIT__RULE_JVM_CAPS, 1);
    assert_int_equal(rep->findings[0].line, 10);
    oomkit__lint_report_free(rep);

    /* Not a JVM. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      command: [/bin/javac-wrapper, -Xms1g]\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Unexpanded references hide the value: no finding. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      args: [\"-Xmx$(HEAP)\", \"-XX:MaxDirectMemorySize=${DIRECT}\"]\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    /* ...but an invalid literal size is still certain. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      args: [\"-Xmx1gb\", \"-XX:MaxDirectMemorySize=$(D)\"]\n");
    expect_only(rep, OOMKIT__RULE_JVM_CAPS, 1);
    assert_non_null(strstr(rep->findings[0].message, "invalid size"));
    oomkit__lint_report_free(rep);

    /* Options from a ConfigMap cannot be seen: no finding. */
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - name: JAVA_OPTS\n          valueFrom:\n"
                                      "            configMapKeyRef: {name: a, key: b}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);

    /* Disabled by config. */
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char err[256];
    const char *yaml = "rules:\n  jvm-memory-caps: off\n";
    assert_int_equal(oomkit__lint_config_load(&cfg, yaml, strlen(yaml), err, sizeof(err)), 0);
    rep = pod(&cfg, RES("1Gi", "1Gi") "      command: [java, -jar, app.jar]\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
}

static void test_prof_threshold(void **state)
{
    (void)state;
    struct oomkit__lint_report *rep = pod(
        NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"dump=exit+inuse>=1GiB\"}\n");
    expect_only(rep, OOMKIT__RULE_PROF_THRESHOLD, 1);
    assert_int_equal(rep->findings[0].line, 11);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"inuse>=1023MiB,sample=512k\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"sample=512k\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"inuse>=??\"}\n");
    expect_only(rep, OOMKIT__RULE_PROF_THRESHOLD, 1);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"inuse>=120%\"}\n");
    expect_only(rep, OOMKIT__RULE_PROF_THRESHOLD, 1);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"inuse>=80%\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
    rep = pod(NULL, RES("1Gi", "1Gi") "      env:\n        - {name: OOMKIT_PROF, value: \"inuse>=$(T)\"}\n");
    expect_only(rep, -1, 0);
    oomkit__lint_report_free(rep);
}

static void test_walker_kinds(void **state)
{
    (void)state;
    /* One container without resources in every workload kind: each is
     * found, once, as a limit-missing finding. */
    static const char *docs[] = {
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
        "kind: StatefulSet\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
        "kind: DaemonSet\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
        "kind: ReplicaSet\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
        "kind: ReplicationController\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
        "kind: Job\nspec:\n  template:\n    spec:\n      initContainers: [{name: a}]\n",
        ("kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
         "          containers: [{name: a}]\n"),
        "kind: PodTemplate\ntemplate:\n  spec:\n    containers: [{name: a}]\n",
        "kind: Pod\nspec:\n  containers: [{name: a}]\n",
        "kind: List\nitems:\n- kind: Pod\n  spec:\n    containers: [{name: a}]\n",
        "kind: PodList\nitems:\n- kind: Pod\n  spec:\n    containers: [{name: a}]\n",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct oomkit__lint_report *rep = lint_text(NULL, docs[i], NULL);
        if (count_rule(rep, OOMKIT__RULE_LIMIT_MISSING) != 1)
            fprintf(stderr, "kind case %zu:\n%s", i, docs[i]);
        assert_int_equal(count_rule(rep, OOMKIT__RULE_LIMIT_MISSING), 1);
        assert_int_equal(rep->n_containers, 1);
        oomkit__lint_report_free(rep);
    }
    /* Kinds without pods are skipped, even when they look like one. */
    struct oomkit__lint_report *rep = lint_text(
        NULL, "kind: ConfigMap\nspec:\n  containers: [{name: a}]\n---\nkind: Service\n", NULL);
    assert_int_equal(rep->n_containers, 0);
    assert_int_equal(rep->n_documents, 2);
    oomkit__lint_report_free(rep);
}

static void test_walker_yaml_features(void **state)
{
    (void)state;
    /* Multi-document stream with empty documents and a document end. */
    struct oomkit__lint_report *rep = lint_text(
        NULL,
        "---\n# nothing\n---\nkind: Pod\nspec:\n  containers: [{name: a}]\n...\n---\n"
        "kind: Pod\nspec:\n  containers:\n  - name: b\n",
        NULL);
    assert_int_equal(count_rule(rep, OOMKIT__RULE_LIMIT_MISSING), 2);
    assert_non_null(find_rule(rep, OOMKIT__RULE_LIMIT_MISSING, 6));
    assert_non_null(find_rule(rep, OOMKIT__RULE_LIMIT_MISSING, 12));
    oomkit__lint_report_free(rep);

    /* Anchors and merge keys: the merged limit is seen; an explicit key
     * wins over the merged one. */
    rep = lint_text(NULL,
                    "kind: Pod\nspec:\n  containers:\n"
                    "  - &base\n    name: a\n    resources:\n"
                    "      requests: {memory: 1Gi}\n      limits: {memory: 1Gi}\n"
                    "  - <<: *base\n    name: b\n"
                    "  - <<: *base\n    name: c\n    resources: {requests: {memory: 1Gi}, limits: {memory: 4Gi}}\n",
                    NULL);
    expect_only(rep, OOMKIT__RULE_RATIO, 1);
    assert_string_equal(rep->findings[0].container, "c");
    assert_int_equal(rep->n_containers, 3);
    oomkit__lint_report_free(rep);

    /* A self-referencing merge terminates (refused as a recursive alias). */
    int rc = 0;
    rep = lint_text(NULL, "kind: Pod\nspec: &s\n  <<: *s\n  containers: [{name: a}]\n", &rc);
    assert_int_equal(rc, -EINVAL);
    oomkit__lint_report_free(rep);

    /* Lint-ignore annotation silences named rules only. */
    rep = lint_text(NULL,
                    "kind: Pod\nmetadata:\n  annotations: {oomkit.dev/lint-ignore: memory-limit-missing}\n"
                    "spec:\n  containers: [{name: a}]\n",
                    NULL);
    expect_only(rep, OOMKIT__RULE_REQUEST_MISSING, 1);
    oomkit__lint_report_free(rep);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    struct {
        const char *text;
        unsigned line;
    } cases[] = {
        /* Bad indentation on line 7. */
        { "kind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n   image: b\n", 7 },
        /* A tab where indentation is expected, line 3. */
        { "kind: Pod\nspec:\n\tcontainers: []\n", 3 },
        /* An undefined alias on line 2. */
        { "kind: Pod\nspec: *nothing\n", 2 },
        /* A control character on line 4 (reader error, byte offset). */
        { "a: 1\nb: 2\nc: 3\nd: \x01\n", 4 },
        /* Second document unclosed on line 5, found where the stream ends
         * (line 6); the first document is still linted. */
        { "kind: Pod\nspec: {containers: [{name: a}]}\n---\nkind: Pod\nspec: [unclosed\n", 6 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = 0;
        struct oomkit__lint_report *rep = lint_text(NULL, cases[i].text, &rc);
        assert_int_equal(rc, -EINVAL);
        assert_int_equal(rep->n_errors, 1);
        if (rep->errors[0].line != cases[i].line)
            dump_report(rep);
        assert_int_equal(rep->errors[0].line, cases[i].line);
        assert_non_null(strstr(rep->errors[0].message, "invalid YAML"));
        if (i == 4)
            assert_int_equal(count_rule(rep, OOMKIT__RULE_LIMIT_MISSING), 1);
        oomkit__lint_report_free(rep);
    }
}

/* n opening brackets then n closing ones (caller frees). */
static char *brackets(size_t n)
{
    char *t = malloc(2 * n + 2);
    assert_non_null(t);
    memset(t, '[', n);
    memset(t + n, ']', n);
    t[2 * n] = '\n';
    t[2 * n + 1] = '\0';
    return t;
}

/* Input the loader refuses because reading it would cost far more than
 * its size: deep nesting, alias bombs, recursive aliases. */
static void test_yaml_limits(void **state)
{
    (void)state;
    /* 512 levels load; 513 are refused where the 513th opens. 100 000
     * levels stop there too (libyaml alone is quadratic: minutes). */
    size_t depths[] = { 512, 513, 100000 };
    for (size_t i = 0; i < 3; i++) {
        char *t = brackets(depths[i]);
        int rc = 0;
        struct oomkit__lint_report *rep = lint_text(NULL, t, &rc);
        if (depths[i] == 512) {
            assert_int_equal(rc, 0);
            assert_int_equal(rep->n_errors, 0);
        } else {
            assert_int_equal(rc, -EINVAL);
            assert_int_equal(rep->n_errors, 1);
            assert_string_equal(rep->errors[0].message, "nesting deeper than 512 levels");
            assert_int_equal(rep->errors[0].line, 1);
            assert_int_equal(rep->errors[0].column, 513);
        }
        oomkit__lint_report_free(rep);
        free(t);
    }

    /* 300 bytes that expand to 1000 Pods of 10 containers each. The
     * document before it is still linted; the bomb adds no findings. */
    const char *bomb =
        "kind: Pod\nspec: {containers: [{name: a}]}\n---\n"
        "kind: List\nitems:\n"
        "- &a {kind: Pod, spec: {containers: [&c {name: c}, *c, *c, *c, *c, *c, *c, *c, *c, *c]}}\n"
        "- &b {kind: List, items: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
        "- &d {kind: List, items: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n"
        "- {kind: List, items: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n";
    int rc = 0;
    struct oomkit__lint_report *rep = lint_text(NULL, bomb, &rc);
    if (rep->n_errors != 1)
        dump_report(rep);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(rep->n_errors, 1);
    assert_string_equal(rep->errors[0].message, "too many alias expansions (a YAML alias bomb?)");
    assert_int_equal(rep->errors[0].line, 9);
    assert_int_equal(count_rule(rep, -1), 2);
    assert_int_equal(rep->n_containers, 1);
    oomkit__lint_report_free(rep);

    /* Reuse as manifests have it stays well inside the bound: one anchored
     * container in 200 Deployments of a List. */
    char *list = malloc(200 * 120 + 400);
    assert_non_null(list);
    int n = sprintf(list, "kind: List\nitems:\n- kind: Pod\n  spec:\n    containers:\n"
                          "    - &app {name: app, image: x, resources: {requests: {memory: 1Gi},"
                          " limits: {memory: 1Gi}}}\n");
    for (int i = 0; i < 200; i++)
        n += sprintf(list + n,
                     "- {kind: Deployment, metadata: {name: d%d}, spec: {template: "
                     "{spec: {containers: [*app]}}}}\n",
                     i);
    rep = lint_text(NULL, list, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(rep->n_errors, 0);
    assert_int_equal(rep->n_containers, 201);
    oomkit__lint_report_free(rep);
    free(list);

    /* Without aliases nothing is refused, however long its scalars. */
    char *big = malloc(300000);
    assert_non_null(big);
    n = sprintf(big, "kind: ConfigMap\ndata:\n  a: ");
    memset(big + n, 'x', 200000);
    strcpy(big + n + 200000, "\n  b: [1, 2]\n");
    rep = lint_text(NULL, big, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(rep->n_errors, 0);
    oomkit__lint_report_free(rep);
    free(big);

    /* A recursive alias expands forever: refused, as Kubernetes does. */
    rep = lint_text(NULL, "kind: List\nitems: &i\n- kind: List\n  items: *i\n", &rc);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(rep->n_errors, 1);
    assert_non_null(strstr(rep->errors[0].message, "recursive alias"));
    assert_int_equal(rep->errors[0].line, 4);
    oomkit__lint_report_free(rep);

    /* The config file goes through the same loader. */
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char err[256];
    char *deep = brackets(100000);
    assert_int_equal(oomkit__lint_config_load(&cfg, deep, strlen(deep), err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "1:513: nesting deeper than 512 levels");
    free(deep);
}

static void test_config(void **state)
{
    (void)state;
    struct oomkit__lint_config cfg;
    char err[256];
    oomkit__lint_config_default(&cfg);
    const char *ok = "# team defaults\nrules:\n  memory-request-missing: off\n"
                     "  memory-limit-missing: warning\n"
                     "  oomkit-prof-threshold: {enabled: false}\n"
                     "  go-memlimit: {severity: error, max-percent: 92.5}\n";
    assert_int_equal(oomkit__lint_config_load(&cfg, ok, strlen(ok), err, sizeof(err)), 0);
    assert_false(cfg.rule[OOMKIT__RULE_REQUEST_MISSING].enabled);
    assert_true(cfg.rule[OOMKIT__RULE_LIMIT_MISSING].enabled);
    assert_int_equal(cfg.rule[OOMKIT__RULE_LIMIT_MISSING].severity, OOMKIT__LINT_WARNING);
    assert_false(cfg.rule[OOMKIT__RULE_PROF_THRESHOLD].enabled);
    assert_int_equal(cfg.rule[OOMKIT__RULE_GO_MEMLIMIT].severity, OOMKIT__LINT_ERROR);
    assert_int_equal(cfg.rule[OOMKIT__RULE_GO_MEMLIMIT].param.num, 925);
    assert_int_equal(cfg.rule[OOMKIT__RULE_GO_MEMLIMIT].param.den, 10);
    struct oomkit__lint_report *rep = pod(&cfg, "      image: x\n");
    expect_only(rep, OOMKIT__RULE_LIMIT_MISSING, 1);
    assert_int_equal(rep->findings[0].severity, OOMKIT__LINT_WARNING);
    oomkit__lint_report_free(rep);

    struct {
        const char *text;
        const char *where;
    } bad[] = {
        { "rules:\n  memory-limit-mising: off\n", "2:3:" },
        { "rules:\n  go-memlimit: {max-ratio: 2}\n", "2:17:" },
        { "rules:\n  memory-limit-request-ratio: {max-ratio: 0.5}\n", "2:43:" },
        { "rules:\n  go-memlimit: {max-percent: 150}\n", "2:30:" },
        { "rules:\n  go-memlimit: {severity: fatal}\n", "2:27:" },
        { "rule:\n  go-memlimit: off\n", "1:1:" },
        { "rules:\n  go-memlimit: sometimes\n", "2:16:" },
        { "rules: [a\n", "2:1:" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        oomkit__lint_config_default(&cfg);
        err[0] = '\0';
        assert_int_equal(oomkit__lint_config_load(&cfg, bad[i].text, strlen(bad[i].text), err,
                                                  sizeof(err)),
                         -EINVAL);
        if (strncmp(err, bad[i].where, strlen(bad[i].where)) != 0)
            fprintf(stderr, "config case %zu: got '%s', want prefix '%s'\n", i, err, bad[i].where);
        assert_int_equal(strncmp(err, bad[i].where, strlen(bad[i].where)), 0);
    }
    /* An empty config keeps the defaults. */
    oomkit__lint_config_default(&cfg);
    assert_int_equal(oomkit__lint_config_load(&cfg, "", 0, err, sizeof(err)), 0);
    assert_true(cfg.rule[OOMKIT__RULE_REQUEST_MISSING].enabled);
}

/* Renders rep with fn into a string (caller frees). */
static char *render(int (*fn)(FILE *, const struct oomkit__lint_config *,
                              const struct oomkit__lint_report *),
                    const struct oomkit__lint_report *rep)
{
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, &cfg, rep), 0);
    fclose(f);
    return buf;
}

static json_object *get_path(json_object *o, const char *const *keys)
{
    for (; o != NULL && *keys != NULL; keys++) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(*keys));
        else if (!json_object_object_get_ex(o, *keys, &o))
            return NULL;
    }
    return o;
}

static void test_sarif_and_json(void **state)
{
    (void)state;
    struct oomkit__lint_report *rep =
        lint_text(NULL, "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: b\n", NULL);
    assert_int_equal(oomkit__lint_report_error(rep, "dir with space/x.yaml", 3, 2, "invalid YAML"),
                     0);
    char *s = render(oomkit__lint_write_sarif, rep);
    json_object *root = json_tokener_parse(s);
    assert_non_null(root);
    /* SARIF 2.1.0 required fields and the ones code scanners read. */
    assert_string_equal(json_object_get_string(get_path(root, (const char *[]){ "version", NULL })),
                        "2.1.0");
    assert_non_null(strstr(json_object_get_string(get_path(root, (const char *[]){ "$schema", NULL })),
                           "sarif-2.1.0"));
    assert_string_equal(json_object_get_string(get_path(
                            root, (const char *[]){ "runs", "0", "tool", "driver", "name", NULL })),
                        "oomkit-lint");
    json_object *rules =
        get_path(root, (const char *[]){ "runs", "0", "tool", "driver", "rules", NULL });
    assert_int_equal(json_object_array_length(rules), OOMKIT__RULE_COUNT);
    for (size_t r = 0; r < OOMKIT__RULE_COUNT; r++)
        assert_string_equal(json_object_get_string(get_path(
                                json_object_array_get_idx(rules, r), (const char *[]){ "id", NULL })),
                            oomkit__lint_rules[r].id);
    json_object *results = get_path(root, (const char *[]){ "runs", "0", "results", NULL });
    assert_int_equal(json_object_array_length(results), 2);
    for (size_t i = 0; i < 2; i++) {
        json_object *res = json_object_array_get_idx(results, i);
        const char *rule = json_object_get_string(get_path(res, (const char *[]){ "ruleId", NULL }));
        assert_true(oomkit__lint_rule_by_id(rule, strlen(rule)) >= 0);
        const char *level = json_object_get_string(get_path(res, (const char *[]){ "level", NULL }));
        assert_true(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0);
        assert_non_null(get_path(res, (const char *[]){ "message", "text", NULL }));
        assert_string_equal(
            json_object_get_string(get_path(res, (const char *[]){ "locations", "0", "physicalLocation",
                                                                   "artifactLocation", "uri", NULL })),
            "t.yaml");
        json_object *region = get_path(
            res, (const char *[]){ "locations", "0", "physicalLocation", "region", NULL });
        assert_int_equal(json_object_get_int(get_path(region, (const char *[]){ "startLine", NULL })), 4);
        assert_int_equal(json_object_get_int(get_path(region, (const char *[]){ "startColumn", NULL })),
                         5);
    }
    /* The unreadable input is a tool notification with an encoded URI. */
    json_object *note = get_path(
        root, (const char *[]){ "runs", "0", "invocations", "0", "toolExecutionNotifications", "0", NULL });
    assert_non_null(note);
    assert_string_equal(
        json_object_get_string(get_path(note, (const char *[]){ "locations", "0", "physicalLocation",
                                                                "artifactLocation", "uri", NULL })),
        "dir%20with%20space/x.yaml");
    assert_false(json_object_get_boolean(
        get_path(root, (const char *[]){ "runs", "0", "invocations", "0", "executionSuccessful", NULL })));
    json_object_put(root);
    free(s);

    s = render(oomkit__lint_write_json, rep);
    root = json_tokener_parse(s);
    assert_non_null(root);
    json_object *findings = get_path(root, (const char *[]){ "findings", NULL });
    assert_int_equal(json_object_array_length(findings), 2);
    json_object *f0 = json_object_array_get_idx(findings, 0);
    static const char *fields[] = { "file", "line", "column", "rule", "severity", "message", "fix",
                                    "object", "container" };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        assert_non_null(get_path(f0, (const char *[]){ fields[i], NULL }));
    assert_int_equal(json_object_get_int(get_path(root, (const char *[]){ "summary", "findings", NULL })),
                     2);
    assert_int_equal(json_object_get_int(get_path(root, (const char *[]){ "summary", "unreadable", NULL })),
                     1);
    json_object_put(root);
    free(s);

    s = render(oomkit__lint_write_text, rep);
    assert_non_null(strstr(s, "t.yaml:4:5: error: "));
    assert_non_null(strstr(s, "[memory-limit-missing]\n    fix: "));
    free(s);
    oomkit__lint_report_free(rep);
}

/* An allocator that fails the Nth allocation, to check that every failure
 * path returns -ENOMEM and leaks nothing (ASan's leak check runs on this). */
static long alloc_countdown = -1;
static void *failing_malloc(size_t size, void *ctx)
{
    (void)ctx;
    if (alloc_countdown == 0)
        return NULL;
    if (alloc_countdown > 0)
        alloc_countdown--;
    return malloc(size);
}
static void *failing_realloc(void *p, size_t size, void *ctx)
{
    (void)ctx;
    if (alloc_countdown == 0)
        return NULL;
    if (alloc_countdown > 0)
        alloc_countdown--;
    return realloc(p, size);
}
static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    const char *text = "kind: Pod\nspec:\n  containers:\n  - name: a\n  - name: b\n"
                       "  - name: c\n    resources: {requests: {memory: 1Gi}, limits: {memory: 4Gi}}\n"
                       "---\nkind: Pod\nspec: [broken\n";
    oomkit_allocator a = { failing_malloc, failing_realloc, plain_free, NULL };
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    bool succeeded = false;
    size_t failures = 0;
    for (long n = 0; n < 200 && !succeeded; n++) {
        alloc_countdown = n;
        oomkit_set_allocator(&a);
        struct oomkit__lint_report *rep = oomkit__lint_report_new();
        int rc = rep ? oomkit__lint_buffer(&cfg, rep, "t.yaml", text, strlen(text)) : -ENOMEM;
        oomkit_set_allocator(NULL);
        /* The stream ends in a YAML error, so success is -EINVAL with all
         * findings and the error recorded. */
        if (rc == -EINVAL) {
            succeeded = true;
            assert_int_equal(count_rule(rep, -1), 5);
            assert_int_equal(rep->n_errors, 1);
        } else {
            assert_int_equal(rc, -ENOMEM);
            failures++;
        }
        oomkit__lint_report_free(rep);
    }
    assert_true(succeeded);
    assert_true(failures >= 5); /* the report, names, findings, errors all failed once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_request_and_limit),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_quantity_rule),
        cmocka_unit_test(test_go_memlimit),
        cmocka_unit_test(test_jvm_caps),
        cmocka_unit_test(test_prof_threshold),
        cmocka_unit_test(test_walker_kinds),
        cmocka_unit_test(test_walker_yaml_features),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_yaml_limits),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_sarif_and_json),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
