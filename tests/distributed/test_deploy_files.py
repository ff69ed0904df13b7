"""deploy/compose.yaml and deploy/k8s/ agree with the code: every env var is a Settings field,
every service and role exists, every app container has health checks, resources and probes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.main import ALL
from libs.events.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FIELDS = {name.upper() for name in Settings.model_fields}
ROLES = {"api", "relay", "projector", "all", "gateway"}
IMAGE = "aftersales:latest"


def check_app_env(where: str, env: dict[str, Any]) -> None:
    unknown = set(env) - FIELDS
    assert not unknown, f"{where}: {sorted(unknown)} are not Settings fields"
    assert env.get("ROLE") in ROLES, f"{where}: role {env.get('ROLE')!r}"
    names = [s for s in str(env.get("SERVICES", "")).split(",") if s]
    assert set(names) <= set(ALL), f"{where}: unknown services {names}"
    if env["ROLE"] == "api":
        assert names and str(env.get("RUN_PROJECTIONS")).lower() == "false", f"{where}: an API pod must not project"
    if env["ROLE"] == "projector":
        assert len(names) == 1, f"{where}: one service's projections per projector"
    if env["ROLE"] == "gateway":
        upstreams = Settings(upstreams=str(env.get("UPSTREAMS", ""))).upstream_urls
        assert set(upstreams) == set(ALL), f"{where}: the gateway must route to every service"
    Settings(**{k.lower(): v for k, v in env.items()})  # and the values parse


def test_compose_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    kraft = services["kafka"]["environment"]
    assert kraft["KAFKA_PROCESS_ROLES"] == "broker,controller" and "KAFKA_CONTROLLER_QUORUM_VOTERS" in kraft
    assert services["postgres"]["image"].startswith("postgres:")
    apps = {name: s for name, s in services.items() if s.get("image") == IMAGE}
    roles = {(s["environment"]["ROLE"], s["environment"]["SERVICES"]) for s in apps.values()}
    assert roles == {("relay", ""), ("gateway", ""), *(("api", n) for n in ALL), *(("projector", n) for n in ALL)}
    declared_volumes = set(compose["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in declared_volumes, f"{name}: {volume} is not a named volume"
        if name != "topic":
            assert "healthcheck" in service, f"{name} has no health check"
    for name, service in apps.items():
        check_app_env(f"compose {name}", service["environment"])
        probe = " ".join(service["healthcheck"]["test"])
        assert "/readyz" in probe or "/healthz" in probe
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    topic = services["topic"]["command"]
    settings = Settings(**{k.lower(): v for k, v in apps["relay"]["environment"].items()})
    assert topic[topic.index("--topic") + 1] == settings.topic
    assert int(topic[topic.index("--partitions") + 1]) == settings.topic_partitions


def test_dockerfile_builds_what_exists() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    copied = [line.split()[1] for line in lines if line.startswith("COPY")]
    root = DEPLOY.parent
    assert all((root / path).exists() for path in copied), copied
    assert {"libs", "services", "app", "requirements.txt"} <= set(copied)
    assert any(line.startswith("CMD") and '"app"' in line for line in lines)


def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()) if d]
    return docs


def test_k8s_manifests() -> None:
    docs = k8s_documents()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    config = next(d for d in by_kind["ConfigMap"] if d["metadata"]["name"] == "aftersales-config")["data"]
    assert "Secret" not in by_kind, "secrets come from the secretGenerator's uncommitted files"
    shared = dict(config)
    roles: set[tuple[str, str]] = set()
    for deployment in by_kind["Deployment"]:
        name = deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        (container,) = template["spec"]["containers"]
        assert container["image"] == IMAGE
        env = {**shared, **{e["name"]: e["value"] for e in container["env"] if "value" in e}}
        check_app_env(f"k8s {name}", env)
        roles.add((env["ROLE"], env["SERVICES"]))
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        if env["ROLE"] == "projector":
            assert deployment["spec"]["replicas"] <= int(config["TOPIC_PARTITIONS"]), "idle replicas"
        if env["ROLE"] == "relay":
            assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    assert roles == {("relay", ""), ("gateway", ""), *(("api", n) for n in ALL), *(("projector", n) for n in ALL)}
    selectors = [d["spec"]["template"]["metadata"]["labels"] for d in by_kind["Deployment"] + by_kind["StatefulSet"]]
    for service in by_kind["Service"]:
        wanted = service["spec"]["selector"].items()
        assert any(wanted <= labels.items() for labels in selectors), f"service {service['metadata']['name']} selects nothing"
    for stateful in by_kind["StatefulSet"]:
        (container,) = stateful["spec"]["template"]["spec"]["containers"]
        assert "readinessProbe" in container and "livenessProbe" in container and container["resources"]["requests"]
    (job,) = by_kind["Job"]
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--topic") + 1] == config["TOPIC"]
    assert command[command.index("--partitions") + 1] == config["TOPIC_PARTITIONS"]
    kafka = next(d for d in by_kind["StatefulSet"] if d["metadata"]["name"] == "kafka")
    assert kafka["spec"]["template"]["spec"]["containers"][0]["image"].startswith("apache/kafka:")


# --- hardening, read from the YAML itself (no cluster, no scanner) ------------------------------

SECRET_NEEDS = {  # which secret keys a component may see: nothing else
    "api:intake": {"DATABASE_URL", "PLATFORM_SECRET", "INTAKE_ID_KEY"}, "postgres": {"POSTGRES_PASSWORD"}, "kafka": set(),
    "create-topic": set(),
}
WRITABLE_ROOT = {"kafka"}  # its image renders its config under /opt/kafka at start


def _pods() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, workload, pod spec) for every Deployment, StatefulSet and Job."""
    found = []
    for doc in k8s_documents():
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            found.append((doc["metadata"]["name"], doc, doc["spec"]["template"]["spec"]))
    return found


def _secret_keys(container: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(secret names, secret keys) a container reads."""
    names, keys = set(), set()
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, f"{container['name']}: envFrom of a whole Secret"
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            names.add(ref["name"])
            keys.add(ref["key"])
    return names, keys


def test_every_pod_and_container_is_locked_down() -> None:
    pods = _pods()
    assert len(pods) >= 13  # 4 services, 4 projectors, relay, gateway, kafka, postgres, the topic job
    for name, _, spec in pods:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] > 0, name
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["capabilities"]["drop"] == ["ALL"] and not ctx["capabilities"].get("add"), name
            assert ctx["seccompProfile"]["type"] == "RuntimeDefault", name
            assert ctx["readOnlyRootFilesystem"] is (name not in WRITABLE_ROOT), name
            assert not ctx.get("privileged"), name
            if ctx["readOnlyRootFilesystem"]:
                mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
                assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_each_component_gets_only_the_secrets_it_needs() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    generated = {g["name"]: g["envs"] for g in kustomization["secretGenerator"]}
    for files in generated.values():
        for path in files:
            assert not (DEPLOY / "k8s" / path).exists() or path in _ignored(), f"{path} must not be committed"
            assert (DEPLOY / "k8s" / f"{path}.example").exists(), f"{path}: no example to copy"
    seen = set()
    for name, _doc, spec in _pods():
        (container,) = spec["containers"]
        names, keys = _secret_keys(container)
        assert names <= set(generated), f"{name}: reads an undeclared secret {names}"
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        component = f"{env.get('ROLE')}:{env.get('SERVICES')}" if "ROLE" in env else name
        allowed = SECRET_NEEDS.get(component, {"DATABASE_URL"})
        assert keys <= allowed, f"{name} sees {keys - allowed}, which it does not need"
        seen |= keys
    assert seen == {"DATABASE_URL", "PLATFORM_SECRET", "INTAKE_ID_KEY", "POSTGRES_PASSWORD"}


def _ignored() -> set[str]:
    ignore = (DEPLOY / "k8s" / "secrets" / ".gitignore").read_text().split()
    return {f"secrets/{p.replace('*', name)}" for p in ignore for name in ("database", "platform", "postgres")}


def test_only_the_gateway_takes_outside_traffic() -> None:
    policies = [d for d in k8s_documents() if d["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"], "no default deny of ingress"
    open_to_all = [p for p in policies for rule in p["spec"].get("ingress", []) if "from" not in rule]
    assert [p["spec"]["podSelector"]["matchLabels"] for p in open_to_all] == [{"app.kubernetes.io/name": "gateway"}]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                assert "ipBlock" not in peer, f"{policy['metadata']['name']}: an address range is outside traffic"
    services = [d for d in k8s_documents() if d["kind"] == "Service"]
    assert not [s["metadata"]["name"] for s in services if s["spec"].get("type") in ("LoadBalancer", "NodePort")]


def test_compose_commits_no_working_secret_and_no_demo() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    text = (DEPLOY / "compose.yaml").read_text()
    assert "change-me" not in text and "demo-platform-secret" not in text
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert str(env.get("DEMO", "false")).lower() == "false", name
        for key in ("PLATFORM_SECRET", "INTAKE_ID_KEY", "POSTGRES_PASSWORD"):
            if key in env:
                assert str(env[key]).startswith("${") and ":?" in str(env[key]), f"{name}: {key} has a value"
        if "DATABASE_URL" in env:
            assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"], name
        if service.get("image") == IMAGE:
            assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
            assert "no-new-privileges:true" in service["security_opt"], name
            intake_api = env.get("SERVICES") == "intake" and env.get("ROLE") == "api"
            assert ("PLATFORM_SECRET" in env) is ("INTAKE_ID_KEY" in env) is intake_api, name
            for port in service.get("ports", []):
                assert name == "gateway" or str(port).startswith("127.0.0.1:"), f"{name} published on every address"


COMPOSE_WRITABLE_ROOT = {"kafka", "topic"}  # the image renders its config under /opt/kafka at start (as in k8s)


def test_every_compose_container_is_locked_down() -> None:
    """The app containers were; Kafka, the topic job and PostgreSQL ran as root with every capability."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        user = str(service.get("user", ""))
        assert user and not user.startswith(("0", "root")), f"{name} runs as root"
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert service.get("read_only") is (name not in COMPOSE_WRITABLE_ROOT), name
