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
    secret = by_kind["Secret"][0]["stringData"]
    shared = {k: v for k, v in {**config, **secret}.items() if not k.startswith("POSTGRES_")}
    roles: set[tuple[str, str]] = set()
    for deployment in by_kind["Deployment"]:
        name = deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        (container,) = template["spec"]["containers"]
        assert container["image"] == IMAGE
        env = {**shared, **{e["name"]: e["value"] for e in container["env"]}}
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
