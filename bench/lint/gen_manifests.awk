# Writes a `helm template`-shaped stream of N Kubernetes documents (N from
# -v n=...): Deployments, StatefulSets, CronJobs, Pods, Lists, Services and
# ConfigMaps, one to three containers each, about one in four with a
# memory finding, Go and JVM runtimes mixed in. Deterministic (srand(seed)).
function q(v) { return v "Mi" }
function container(ind, name, kind,    req, lim) {
  req = 64 * (1 + int(rand() * 32))
  lim = req
  if (rand() < 0.15) lim = req * 2
  print ind "- name: " name
  print ind "  image: registry.example.com/" name ":1." int(rand() * 20) ".0"
  print ind "  ports:"
  print ind "    - containerPort: 8080"
  print ind "      name: http"
  if (kind == 1) {
    print ind "  env:"
    print ind "    - name: GOMEMLIMIT"
    print ind "      value: " int(lim * (rand() < 0.2 ? 1 : 0.85)) "MiB"
  } else if (kind == 2) {
    print ind "  env:"
    print ind "    - name: JAVA_TOOL_OPTIONS"
    print ind "      value: \"-XX:MaxRAMPercentage=60 " (rand() < 0.2 ? "" : "-XX:MaxDirectMemorySize=" int(lim / 5) "m") "\""
  }
  if (rand() < 0.05) return
  print ind "  resources:"
  print ind "    requests:"
  print ind "      cpu: 100m"
  print ind "      memory: " q(req)
  print ind "    limits:"
  print ind "      memory: " q(lim)
}
function pod_spec(ind, base,    k, nc) {
  nc = 1 + int(rand() * 3)
  print ind "containers:"
  for (k = 0; k < nc; k++) container(ind "  ", base "-c" k, int(rand() * 3))
}
function meta(ind, name) {
  print ind "metadata:"
  print ind "  name: " name
  print ind "  namespace: team-" int(rand() * 40)
  print ind "  labels:"
  print ind "    app.kubernetes.io/name: " name
  print ind "    app.kubernetes.io/instance: release-name"
  print ind "    helm.sh/chart: svc-1.2.3"
}
BEGIN {
  srand(seed ? seed : 42)
  for (i = 0; i < n; i++) {
    r = rand(); name = "svc-" i
    print "---"
    print "# Source: chart/templates/" name ".yaml"
    if (r < 0.40) {
      print "apiVersion: apps/v1"; print "kind: Deployment"; meta("", name)
      print "spec:"; print "  replicas: 2"; print "  selector:"; print "    matchLabels: {app: " name "}"
      print "  template:"; print "    metadata:"; print "      labels: {app: " name "}"
      print "    spec:"; pod_spec("      ", name)
    } else if (r < 0.50) {
      print "apiVersion: apps/v1"; print "kind: StatefulSet"; meta("", name)
      print "spec:"; print "  serviceName: " name; print "  template:"; print "    spec:"; pod_spec("      ", name)
    } else if (r < 0.58) {
      print "apiVersion: batch/v1"; print "kind: CronJob"; meta("", name)
      print "spec:"; print "  schedule: \"*/5 * * * *\""; print "  jobTemplate:"; print "    spec:"
      print "      template:"; print "        spec:"; print "          restartPolicy: Never"; pod_spec("          ", name)
    } else if (r < 0.66) {
      print "apiVersion: v1"; print "kind: Pod"; meta("", name); print "spec:"; pod_spec("  ", name)
    } else if (r < 0.70) {
      print "apiVersion: v1"; print "kind: List"; print "items:"
      print "  - apiVersion: v1"; print "    kind: Pod"; meta("    ", name); print "    spec:"; pod_spec("      ", name)
    } else if (r < 0.85) {
      print "apiVersion: v1"; print "kind: Service"; meta("", name)
      print "spec:"; print "  ports:"; print "    - port: 80"; print "      targetPort: http"
      print "  selector: {app: " name "}"
    } else {
      print "apiVersion: v1"; print "kind: ConfigMap"; meta("", name)
      print "data:"; print "  config.yaml: |"; print "    cache: 128Mi"; print "    workers: 4"
    }
  }
}
