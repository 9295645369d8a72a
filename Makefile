# smtp-reach: the README's commands. Each target installs what it needs.
SHELL := /bin/bash
MVN := ./mvnw -B
PEER_DIR := /tmp/smtp-reach-postfix
CLUSTER_DIR := $(HOME)/.cache/smtp-reach/local-cluster

.PHONY: help deps peer-builds controlplane controlplane-oldest helm prometheus-operator manifests build image image-check test demo demo-down run crds fuzz blackbox-exporter bench-probe bench-startup bench-detection bench-round-cost bench-scale bench-scale-agents bench-agent-soak fmt peer-up peer-down cluster-up cluster-down real-nodes-up real-nodes-down test-real-node clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## Install the Debian packages tests and demo use (postfix, iptables, ...)
	@hack/install-deps.sh

build: ## Compile and package (target/quarkus-app), no tests
	$(MVN) package -DskipTests

image: build ## The container image with no registry: target/image/smtp-reach-VERSION.tar, checked by running it
	@hack/image.sh build

image-check: ## Run make image's checks again on target/image/smtp-reach-VERSION.tar
	@hack/image.sh check

controlplane: ## Build kube-apiserver, controller-manager, scheduler, etcd and the kubelet from source (cached)
	@hack/control-plane.sh build

controlplane-oldest: controlplane ## Build the oldest control plane the chart claims (1.30), for OldestKubernetesIT (cached)
	@SMTP_REACH_KUBERNETES=oldest hack/control-plane.sh build

helm: ## Build Helm from its Go module (cached), for the chart tests
	@hack/helm.sh build >/dev/null

prometheus-operator: ## Build prometheus-operator from its Go module (cached), for the ServiceMonitor test
	@hack/prometheus-operator.sh build >/dev/null

manifests: helm ## Render deploy/ from the chart and copy CRD, rules and dashboard into it
	@hack/render-manifests.sh

test: deps peer-builds image ## Every test: unit, Postfix, iptables, the operator on a real control plane and real nodes
	$(MVN) verify

# The Go builds of what the integration tests run (both control planes, Helm, prometheus-operator)
# start in the background, at low priority, while Maven packages, builds the image and runs the
# unit tests; a test that needs one waits for its build (each script builds once per cache, under
# a lock). A build that failed here fails again, with its message, in the test that needs it.
peer-builds:
	@mkdir -p target && (nice -n 19 bash -c 'hack/control-plane.sh build && hack/helm.sh build \
	  && hack/prometheus-operator.sh build && SMTP_REACH_KUBERNETES=oldest hack/control-plane.sh build' \
	  > target/peer-builds.log 2>&1 &)

demo: deps controlplane helm image ## The chart on a local Kubernetes with two real nodes: two zones, 587 dropped in one, a real Postfix
	@hack/demo.sh

demo-down: ## Stop what make demo started (operator, nodes, control plane, Postfix)
	@hack/local-cluster.sh down $(CLUSTER_DIR)
	@hack/postfix-peer.sh stop $(PEER_DIR) >/dev/null 2>&1 || true

run: build ## Run the operator against the current kubeconfig context (applies crds/ first)
	kubectl apply --server-side -f crds/
	SMTP_REACH_LEASE_NAMESPACE=$${SMTP_REACH_LEASE_NAMESPACE:-default} java -jar target/quarkus-app/quarkus-run.jar

crds: ## Copy the CRDs the build generates into crds/ (the build checks they are equal)
	$(MVN) package -DskipTests -q
	cp target/kubernetes/smtpendpoints.smtpreach.io-v1.yml crds/

fuzz: ## Fuzz the SMTP reply reader and the result decoder (JAZZER_FUZZ=1)
	JAZZER_FUZZ=1 $(MVN) test -Dtest='*FuzzTest' -Dspotless.check.skip=true -Dsurefire.failIfNoSpecifiedTests=false

blackbox-exporter: ## Build Prometheus's blackbox_exporter from its Go module (cached), for bench-probe
	@hack/blackbox-exporter.sh build >/dev/null

bench-probe: deps build blackbox-exporter ## Our probe vs check_smtp, swaks and blackbox_exporter against the same Postfix
	@hack/bench-probe.sh

bench-startup: deps build ## Probe process start to result file: launcher flags vs AppCDS vs small heap
	@hack/bench-startup.sh

bench-detection: deps controlplane build ## 587 dropped on a node to Event, metric and alert; interval vs probe-now
	SMTP_REACH_REQUIRE_ALL=1 $(MVN) failsafe:integration-test failsafe:verify -Dit.test=DetectionLatencyBench

bench-round-cost: deps controlplane image blackbox-exporter ## CPU a probe pod and a resident agent cost a real node per endpoint-round (kubelet, containerd, shims, control plane) vs blackbox_exporter per probe
	SMTP_REACH_REQUIRE_ALL=1 $(MVN) failsafe:integration-test failsafe:verify -Dit.test=RoundCostBench

bench-scale: deps controlplane build ## The operator at 100, 1,000 and 5,000 endpoints every minute
	SMTP_REACH_AUDIT_USER=system:serviceaccount:smtp-reach-system:smtp-reach SMTP_REACH_REQUIRE_ALL=1 \
	  $(MVN) failsafe:integration-test failsafe:verify -Dit.test=OperatorScaleBench

bench-scale-agents: deps controlplane image ## The same, probed by the operator's resident agent on a real node
	BENCH_PROBE_MODE=Agent SMTP_REACH_AUDIT_USER=system:serviceaccount:smtp-reach-system:smtp-reach \
	  SMTP_REACH_REQUIRE_ALL=1 $(MVN) failsafe:integration-test failsafe:verify -Dit.test=OperatorScaleBench

bench-agent-soak: deps build ## A resident probe agent over a day of 100 endpoints a minute, compressed (28,800 requests of 5): RSS, heap after GC, threads, CPU per request
	$(MVN) failsafe:integration-test failsafe:verify -Dit.test=AgentSoakBench

fmt: ## Format the Java sources (the build checks this)
	$(MVN) spotless:apply

peer-up: deps ## Start the test Postfix on 25/587/465/2525
	@hack/postfix-peer.sh start $(PEER_DIR)

peer-down: ## Stop the test Postfix
	@hack/postfix-peer.sh stop $(PEER_DIR)

cluster-up: ## Start a local Kubernetes control plane and two process nodes (zone-a, zone-b)
	@hack/local-cluster.sh up $(CLUSTER_DIR) >/dev/null
	@hack/local-cluster.sh nodes-up $(CLUSTER_DIR)
	@echo "kubeconfig: $(CLUSTER_DIR)/admin.kubeconfig"
	@echo "export KUBECONFIG=$(CLUSTER_DIR)/admin.kubeconfig"
	@echo "kubectl: $$(hack/control-plane.sh bin-dir)/kubectl"

cluster-down: ## Stop the local cluster, its process nodes and real nodes
	@hack/local-cluster.sh down $(CLUSTER_DIR)

real-nodes-up: deps controlplane ## A local control plane with two real nodes (kubelet + containerd): real-a (zone-a), real-b (zone-b)
	@hack/local-cluster.sh status $(CLUSTER_DIR) >/dev/null 2>&1 || hack/local-cluster.sh up $(CLUSTER_DIR) >/dev/null
	@hack/real-node.sh up $(CLUSTER_DIR) real-a --zone zone-a --subnet 101
	@hack/real-node.sh up $(CLUSTER_DIR) real-b --zone zone-b --subnet 102
	@echo "export KUBECONFIG=$(CLUSTER_DIR)/admin.kubeconfig"

real-nodes-down: ## Stop the real nodes and restore the host (the control plane stays: make cluster-down)
	@hack/real-node.sh down $(CLUSTER_DIR) real-b
	@hack/real-node.sh down $(CLUSTER_DIR) real-a

test-real-node: deps controlplane ## Only RealNodeIT: two real nodes, pods, egress, teardown
	$(MVN) verify -Dit.test=RealNodeIT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false

clean:
	$(MVN) clean
