"""The deploy files, checked by the tools that read them: hadolint and
BuildKit's Dockerfile parser for the images, the Compose Specification schema
for the compose file, RabbitMQ itself for its definitions, kubectl's
kustomize and the Kubernetes OpenAPI schemas for the manifests; then explicit
checks of what the schemas do not say (probes, limits, non-root, pinning,
one of everything per service)."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from importlib.metadata import packages_distributions
from pathlib import Path

import dockerfile
import kubernetes_validate
import pytest
import yaml

from chassis.config import SERVICES_DIR, load_config
from chassis.contracts import SUBSCRIPTIONS
from chassis.metrics import DEFAULT_PORTS
from chassis.run import STOP_TIMEOUT
from chassis.topology import dead_letter_queue, main_queue

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(DEPLOY))

from runtime_requirements import DEV_ONLY, requirement_name, runtime_requirements  # noqa: E402

import pcops_deploy  # noqa: E402

SERVICES = sorted(p.parent.name for p in SERVICES_DIR.glob("*/config.yaml"))  # nameko services: a broker each
DATA_SERVICES = [s for s in SERVICES if "DATABASE_URL" in load_config(s)]
# Web apps (the console): no config.yaml, declared by services/<app>/deploy.yaml with neither
# database nor broker; they get an image and a Deployment like every service, nothing else.
WEB_APPS = pcops_deploy.web_apps()
DEPLOYED = sorted(SERVICES + WEB_APPS)
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")


def succeeds(*command: str, timeout: int = 60) -> str:
    """Run a command (a checker, rabbitmqctl) that must exit 0; its output (the failure message shows all it said)."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_generated_deploy_files_are_up_to_date():
    """A new service or subscription needs `tools/pcops.py deploy render`."""
    assert pcops_deploy.render(check=True) == [], "run: tools/pcops.py deploy render"


# --- images ------------------------------------------------------------------------------


def test_image_definitions_lint_clean_pinned_non_root_one_target_per_service():
    succeeds(str(BIN / "hadolint"), "--failure-threshold", "info", str(DEPLOY / "Dockerfile"))

    instructions = dockerfile.parse_file(str(DEPLOY / "Dockerfile"))
    stages: dict[str, list] = {}
    for instruction in instructions:
        if instruction.cmd == "FROM":
            image, _as, name = instruction.value
            stages[name] = [instruction]
            if image not in stages or image == name:
                assert PINNED_PYTHON.match(image), f"base image {image} is not pinned to an exact python 3.11 slim"
        else:
            stages[name].append(instruction)
    users = [i.value[0] for i in instructions if i.cmd == "USER"]
    assert users and all(re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", u) for u in users), users
    runtime = {i.cmd: i.value for i in stages["runtime"]}
    assert runtime["USER"] == ("10001:10001",)
    assert runtime["ENTRYPOINT"] == ("python", "-m", "chassis.run")

    for service in SERVICES:
        assert service in stages, f"no image target for {service}"
        stage = stages[service]
        assert stage[0].value[0] == "runtime"
        commands = {i.cmd: i.value for i in stage[1:]}
        assert commands["COPY"] == (f"services/{service}", f"/app/services/{service}")
        assert commands["CMD"] == (service,)
        assert str(DEFAULT_PORTS[service]) in commands["EXPOSE"]
        # Only its own service: one image per service.
        copied = [i.value for i in stage if i.cmd == "COPY"]
        assert all(value[0] == f"services/{service}" for value in copied)
    for app in WEB_APPS:  # its own program, not chassis.run, on the port its deploy.yaml declares
        assert app in stages, f"no image target for {app}"
        stage = stages[app]
        assert stage[0].value[0] == "runtime"
        commands = {i.cmd: i.value for i in stage[1:]}
        assert [i.value for i in stage if i.cmd == "COPY"] == [(f"services/{app}", f"/app/services/{app}")]
        assert commands["ENTRYPOINT"] == ("python", "-m", app)
        assert str(pcops_deploy.web_app(app)["port"]) in commands["EXPOSE"]

    ignore = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ignore[0] == "*" and "**/tests" in ignore, "the build context holds only what images need"


def test_images_install_only_runtime_dependencies_and_every_one_is_pinned():
    runtime = runtime_requirements((REPO / "requirements.in").read_text())
    names = {requirement_name(r) for r in runtime}
    assert {"nameko", "psycopg", "prometheus-client", "pydantic"} <= names
    assert not names & DEV_ONLY
    locked = {
        requirement_name(line)
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert names <= locked, f"not pinned in requirements.lock: {names - locked}"

    # Nothing a service or the chassis imports at run time is left out of the images.
    distributions = packages_distributions()
    runtime_sources = [
        p
        for p in [*SERVICES_DIR.rglob("*.py"), *(REPO / "libs").rglob("*.py")]
        if "tests" not in p.parts and p.name != "testing.py"
    ]  # test support, not in images
    dev_imports = set()
    for path in runtime_sources:
        for node in ast.walk(ast.parse(path.read_text())):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                else []
            )
            for module in modules:
                for dist in distributions.get(module.split(".")[0], []):
                    if dist.lower().replace("_", "-") in DEV_ONLY:
                        dev_imports.add((str(path.relative_to(REPO)), dist))
    assert dev_imports == set(), "imported at run time but excluded from images"


# --- compose --------------------------------------------------------------------------------


def test_compose_file_is_valid_and_runs_every_service_with_its_own_database():
    succeeds(
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        str(DEPLOY / "compose.yaml"),
        timeout=120,
    )

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    defined = compose["services"]
    for name, spec in defined.items():
        if "image" in spec and "build" not in spec:
            assert re.search(r":v?\d[\w.\-]*$", spec["image"]), f"{name}: image {spec['image']} is not pinned"
    databases = set()
    for service in SERVICES:
        spec = defined[service]
        assert spec["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile", "target": service}
        assert spec["user"] == "10001:10001" and spec["read_only"] is True and spec["cap_drop"] == ["ALL"]
        assert "healthcheck" in spec and "/readyz" in " ".join(spec["healthcheck"]["test"])
        assert spec["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
        if service in DATA_SERVICES:
            db = defined[f"{service}-db"]
            assert spec["depends_on"][f"{service}-db"] == {"condition": "service_healthy"}
            url = spec["environment"][f"PC_{service.upper()}_DATABASE_URL"]
            assert f"@{service}-db:5432/" in url
            databases.add(db["environment"]["POSTGRES_DB"])
    assert len(databases) == len(DATA_SERVICES), "one PostgreSQL database per service"
    assert defined["gateway"]["ports"] == ["127.0.0.1:8000:8000"]
    prometheus = yaml.safe_load((DEPLOY / "compose/prometheus/prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {f"{s}:{DEFAULT_PORTS[s]}" for s in SERVICES}


def test_compose_rabbitmq_definitions_import_into_a_real_broker():
    """RabbitMQ itself reads the definitions (vhost and user renamed for the test)."""
    definitions = json.loads((DEPLOY / "compose/rabbitmq/definitions.json").read_text())
    suffix = uuid.uuid4().hex[:8]
    vhost, user = f"pc_defs_{suffix}", f"pc_defs_{suffix}"
    text = (
        json.dumps(definitions)
        .replace('"vhost": "pc"', f'"vhost": "{vhost}"')
        .replace('"name": "pc"', f'"name": "{vhost}"')
        .replace('"user": "pc"', f'"user": "{user}"')
    )
    text = text.replace(f'"users": [{{"name": "{vhost}"', f'"users": [{{"name": "{user}"')
    path = Path("/tmp") / f"pc-definitions-{suffix}.json"
    path.write_text(text)
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "import_definitions", str(path)], check=True, capture_output=True, timeout=60
        )
        vhosts = succeeds("rabbitmqctl", "-q", "list_vhosts", "--no-table-headers", "name", "default_queue_type")
        assert f"{vhost}\tquorum" in vhosts
        policies = succeeds("rabbitmqctl", "-q", "list_policies", "-p", vhost, "--formatter", "json")
        assert {p["name"] for p in json.loads(policies or "[]")} == {p["name"] for p in definitions["policies"]}
    finally:
        path.unlink()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True, timeout=60)


# --- Kubernetes ----------------------------------------------------------------------------


def manifests() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted((DEPLOY / "k8s").rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _path, doc in manifests() if doc["kind"] == kind}


def pod_specs() -> list[tuple[str, dict]]:
    pods = [(f"Deployment/{n}", d["spec"]["template"]["spec"]) for n, d in by_kind("Deployment").items()]
    return pods + [(f"Job/{n}", d["spec"]["template"]["spec"]) for n, d in by_kind("Job").items()]


def test_each_service_may_use_only_its_own_queues_and_reaches_the_broker_over_tls():
    """Least privilege on the bus (issue 16): a service's RabbitMQ user reads only
    its own queues; it configures and writes only those, the exchanges it uses and
    the main queues of its own events' subscribers (its relay declares them)."""
    from chassis.rpc import health_queue
    from chassis.topology import retry_queue

    permissions = {
        p["spec"]["userReference"]["name"].removeprefix("pc-"): p["spec"]["permissions"]
        for p in by_kind("Permission").values()
    }
    subscriptions = [s for s in SUBSCRIPTIONS if s.service in SERVICES]

    def allows(service, access, name):
        return re.match(permissions[service][access], name) is not None

    for service in SERVICES:
        assert allows(service, "read", f"rpc-{service}") and allows(service, "read", f"rpc.reply-{service}-x1")
        assert allows(service, "write", "nameko-rpc") and allows(service, "configure", f"rpc-{service}")
        # chassis.health: every service with a database answers /healthz's question on a queue of its own
        assert allows(service, "read", health_queue(service)) is (service in DATA_SERVICES), service
        for other in set(SERVICES) - {service}:
            for access in ("configure", "write", "read"):
                assert not allows(service, access, f"rpc-{other}"), (service, access, other)
                assert not allows(service, access, health_queue(other)), (service, access, other)
                assert not allows(service, access, f"rpc.reply-{other}-x1"), (service, access, other)
        for sub in subscriptions:
            own = sub.service == service
            for queue in (main_queue(sub), retry_queue(sub), dead_letter_queue(sub)):
                assert allows(service, "read", queue) is own, (service, queue)
            for queue in (retry_queue(sub), dead_letter_queue(sub)):
                assert allows(service, "configure", queue) is own, (service, queue)
    assert not allows("gateway", "write", "pc.events")  # the gateway publishes no events
    (cluster,) = by_kind("RabbitmqCluster").values()
    assert cluster["spec"]["tls"]["disableNonTLSListeners"] is True
    for service in SERVICES:
        pod = by_kind("Deployment")[f"pc-{service}"]["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env["PC_AMQP_URI"]["value"].startswith("amqps://") and ":5671/" in env["PC_AMQP_URI"]["value"]
        mounted = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        assert env["SSL_CERT_FILE"]["value"] == mounted["rabbitmq-ca"] + "/ca.crt"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_every_kustomization_builds():
    directories = sorted(p.parent for p in (DEPLOY / "k8s").rglob("kustomization.yaml"))
    assert len(directories) == 1 + len(DEPLOYED) + 2 * len(DATA_SERVICES)
    for directory in directories:
        built = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
        assert built.returncode == 0, f"{directory}: {built.stderr}"
        assert all(
            doc["metadata"].get("namespace") == "pc"
            for doc in yaml.safe_load_all(built.stdout)
            if doc and doc["kind"] != "Namespace"
        )


def test_builtin_kinds_match_the_kubernetes_schemas_strictly():
    checked = 0
    for _path, doc in manifests():
        if (
            "." in doc["apiVersion"].split("/")[0]
            and not doc["apiVersion"].startswith(("apps/", "batch/"))
            and doc["apiVersion"].split("/")[0] not in ("autoscaling", "policy", "networking.k8s.io")
        ):
            continue  # custom resources (operators): checked below
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
        checked += 1
    assert checked >= 7 * len(SERVICES) - len(SERVICES)


def test_every_workload_is_non_root_with_requests_and_limits():
    workloads = pod_specs()
    assert len(workloads) == len(DEPLOYED) + len(DATA_SERVICES) + 1  # + the rate limits' Redis
    for name, pod in workloads:
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, name
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, f"{name}: {kind}"
    for kind in ("Cluster", "RabbitmqCluster"):  # the operators' workloads: sized too
        for name, doc in by_kind(kind).items():
            assert set(doc["spec"]["resources"]["limits"]) == {"cpu", "memory"}, name


def test_every_deployment_has_probes_autoscaler_budget_and_graceful_stop():
    deployments = by_kind("Deployment")
    autoscalers = {d["spec"]["scaleTargetRef"]["name"]: d for d in by_kind("HorizontalPodAutoscaler").values()}
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: d
        for d in by_kind("PodDisruptionBudget").values()
    }
    assert sorted(deployments) == sorted([f"pc-{s}" for s in DEPLOYED] + ["pc-redis"])
    for service in DEPLOYED:
        deployment = deployments[f"pc-{service}"]
        assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > STOP_TIMEOUT
        (container,) = pod["containers"]
        assert container["image"].startswith(f"partner-center/{service}:")
        assert autoscalers[f"pc-{service}"]["spec"]["minReplicas"] >= 2
        assert budgets[service]["spec"]["minAvailable"] == 1
        env = {e["name"]: e for e in container["env"]}
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if service in WEB_APPS:
            continue  # test_a_web_app_has_probes_on_its_health_path_and_nothing_of_a_broker_or_database
        assert container["args"] == [service, "--no-migrate"], "migrations run in the Job, before the rollout"
        assert ports["metrics"] == DEFAULT_PORTS[service]
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
            assert container[probe]["httpGet"] == {"path": path, "port": "metrics"}, f"{service} {probe}"
        assert env["PC_AMQP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"pc-{service}-amqp"
        if service in DATA_SERVICES:
            assert env[f"PC_{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": f"pc-{service}-db-app",
                "key": "uri",
            }, "CloudNativePG's app secret"


def test_every_data_service_has_a_postgres_cluster_and_a_migration_job():
    clusters, jobs = by_kind("Cluster"), by_kind("Job")
    for service in DATA_SERVICES:
        cluster = clusters[f"pc-{service}-db"]
        assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
        assert cluster["spec"]["instances"] >= 2 and cluster["spec"]["storage"]["size"]
        assert cluster["spec"]["bootstrap"]["initdb"] == {"database": f"pc_{service}", "owner": service}
        job = jobs[f"pc-{service}-migrate"]["spec"]
        (container,) = job["template"]["spec"]["containers"]
        assert container["command"] + container["args"] == [
            "python",
            "/app/tools/pcops.py",
            "migrations",
            "apply",
            service,
        ]
        assert job["template"]["spec"]["restartPolicy"] == "Never" and job["backoffLimit"] >= 1


def test_each_database_has_room_for_every_pool_of_its_service_at_full_scale_mid_rollout():
    clusters, deployments, configs = by_kind("Cluster"), by_kind("Deployment"), by_kind("ConfigMap")
    autoscalers = {d["spec"]["scaleTargetRef"]["name"]: d for d in by_kind("HorizontalPodAutoscaler").values()}
    for service in DATA_SERVICES:
        pool = int(configs[f"pc-{service}-config"]["data"][f"PC_{service.upper()}_DB_POOL_MAX"])
        assert pool == int(load_config(service)["DB_POOL_MAX"]), "the pods run the pool make run measured"
        pods = (
            autoscalers[f"pc-{service}"]["spec"]["maxReplicas"]
            + deployments[f"pc-{service}"]["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        )
        room = int(clusters[f"pc-{service}-db"]["spec"]["postgresql"]["parameters"]["max_connections"])
        superusers, migration_job = 3, 1
        assert room >= pods * pool + migration_job + superusers, service


def test_rabbitmq_cluster_quorum_vhost_users_and_a_dead_letter_policy_per_subscription():
    (cluster,) = by_kind("RabbitmqCluster").values()
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1" and cluster["spec"]["replicas"] >= 3
    (vhost,) = by_kind("Vhost").values()
    assert vhost["spec"]["defaultQueueType"] == "quorum"
    users = by_kind("User")
    assert {u["spec"]["importCredentialsSecret"]["name"] for u in users.values()} == {f"pc-{s}-amqp" for s in SERVICES}
    assert set(by_kind("Permission")) == set(users)
    policies = {p["spec"]["pattern"]: p["spec"] for p in by_kind("Policy").values()}
    platform_subscriptions = [s for s in SUBSCRIPTIONS if s.service in SERVICES]
    assert len(policies) == len(platform_subscriptions)
    for sub in platform_subscriptions:
        policy = policies["^" + main_queue(sub).replace(".", r"\.") + "$"]
        assert policy["vhost"] == vhost["spec"]["name"]
        assert policy["definition"]["delivery-limit"] > 0
        assert policy["definition"]["dead-letter-routing-key"] == dead_letter_queue(sub)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_deploy_script_migrates_then_rolls_out_the_release_image_of_one_service_only():
    run = subprocess.run(
        [str(DEPLOY / "k8s/deploy.sh"), "settlement", "2026.11.26-7", "registry.test/pc"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PC_DRY_RUN": "1"},
    )
    assert run.returncode == 0, run.stderr
    documents = [d for d in yaml.safe_load_all(run.stdout) if d]
    kinds = [d["kind"] for d in documents]
    assert sorted(kinds) == sorted(
        [
            "Cluster",
            "Job",
            "ServiceAccount",
            "ConfigMap",
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        ]
    )
    assert kinds.index("Cluster") < kinds.index("Job") < kinds.index("Deployment"), "database, migrate, roll out"
    images = {
        c["image"]
        for d in documents
        if d["kind"] in ("Job", "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.test/pc/settlement:2026.11.26-7"}
    assert all(d["metadata"]["labels"]["app.kubernetes.io/name"] == "settlement" for d in documents)
    steps = [line for line in run.stdout.splitlines() if line.startswith("# would run")]
    assert "job/pc-settlement-migrate" in steps[2] and "rollout status deployment/pc-settlement" in steps[3]
    unknown = subprocess.run([str(DEPLOY / "k8s/deploy.sh"), "nope", "1"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2


def test_a_web_app_has_probes_on_its_health_path_and_nothing_of_a_broker_or_database():
    """Issue 22: the console (declared in services/console/deploy.yaml, no config.yaml)
    is deployed as a client of the gateway only: its Service URL in the config, probes on
    the health path it really answers, no RabbitMQ user, CA or credentials, no database."""
    from werkzeug.test import Client

    from console.web import Console

    assert WEB_APPS, "the console declares its deployment"
    deployments, configs, services = by_kind("Deployment"), by_kind("ConfigMap"), by_kind("Service")
    for app in WEB_APPS:
        declared = pcops_deploy.web_app(app)
        assert declared["database"] is False and declared["broker"] is False
        pod = deployments[f"pc-{app}"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": declared["port"]}
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"] == {"path": declared["health"], "port": "http"}, f"{app} {probe}"
        env = {e["name"]: e for e in container["env"]}
        assert not [name for name in env if "AMQP" in name or "DATABASE" in name or name == "SSL_CERT_FILE"]
        assert all("secretKeyRef" in e["valueFrom"] for e in env.values()), "secrets only from Secrets"
        assert "volumes" not in pod and "volumeMounts" not in container
        assert f"pc-{app}-db" not in by_kind("Cluster") and f"pc-{app}-migrate" not in by_kind("Job")
        assert f"pc-{app}" not in by_kind("User") and f"pc-{app}" not in by_kind("Permission")
        # It reaches the gateway through the gateway's own Service (http, port 80).
        gateway_url = configs[f"pc-{app}-config"]["data"]["PC_GATEWAY_URL"]
        host = re.fullmatch(r"http://([a-z0-9-]+)\.pc\.svc", gateway_url).group(1)
        assert (
            host == "pc-gateway"
            and {"name": "http", "port": 80, "targetPort": "http"} in services[host]["spec"]["ports"]
        )
        assert (
            services[f"pc-{app}"]["spec"]["selector"].items()
            <= deployments[f"pc-{app}"]["spec"]["template"]["metadata"]["labels"].items()
        )
    # The console answers its probes' path itself, without asking the gateway (nothing listens on port 9).
    response = Client(Console("http://127.0.0.1:9")).get(pcops_deploy.web_app("console")["health"])
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")


def test_the_gateways_rate_limit_redis_has_no_persistence_limits_and_only_gateways_reach_it():
    """Issue 16: the gateway's PC_REDIS_URL names a Service that exists and selects the
    Redis Deployment; counters need no persistence; only gateway pods may connect; and a
    real redis-server accepts the manifest's arguments and runs as they say."""
    gateway = by_kind("ConfigMap")["pc-gateway-config"]["data"]["PC_REDIS_URL"]
    host, port = re.fullmatch(r"redis://([a-z0-9-]+)\.pc\.svc:(\d+)/0", gateway).groups()
    service, deployment = by_kind("Service")[host], by_kind("Deployment")[host]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-alpine", container["image"]), "pinned"
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    assert all("emptyDir" in v for v in pod["volumes"]), "no persistent volume"
    assert not by_kind("PersistentVolumeClaim") and "volumeClaimTemplates" not in deployment["spec"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["exec"]["command"][0] == "redis-cli"
    args = container["args"]
    options = {args[i]: args[i + 1] for i in range(0, len(args), 2)}
    assert options["--save"] == "" and options["--appendonly"] == "no"
    maxmemory = int(options["--maxmemory"].removesuffix("mb")) * 2**20
    limit = int(container["resources"]["limits"]["memory"].removesuffix("Mi")) * 2**20
    assert maxmemory < limit, "Redis evicts before the pod is killed"
    (policy,) = [
        p
        for p in by_kind("NetworkPolicy").values()
        if p["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    ]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": int(port)}]
    gateway_pods = by_kind("Deployment")["pc-gateway"]["spec"]["template"]["metadata"]["labels"]
    assert gateway_pods["app.kubernetes.io/name"] == "gateway"
    if shutil.which("redis-server"):
        check_redis_runs_with(container["command"], {**options, "--port": "0"})


def check_redis_runs_with(command: list[str], options: dict) -> None:
    """A real redis-server on a Unix socket of its own, with the manifest's options."""
    import tempfile
    import time

    import redis

    with tempfile.TemporaryDirectory() as directory:
        sock = os.path.join(directory, "redis.sock")
        argv = (
            [shutil.which(command[0])]
            + [x for k, v in options.items() for x in (k, v)]
            + ["--unixsocket", sock, "--dir", directory]
        )
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            client = redis.Redis(unix_socket_path=sock, socket_timeout=5)
            while not os.path.exists(sock):  # up (or it said why not)
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.05)
            assert client.ping()
            config = client.config_get("*")
            assert (config["save"], config["appendonly"], config["maxmemory-policy"]) == (
                "",
                "no",
                options["--maxmemory-policy"],
            )
            assert int(config["maxmemory"]) == int(options["--maxmemory"].removesuffix("mb")) * 2**20
        finally:
            server.terminate()
            server.wait(timeout=10)
