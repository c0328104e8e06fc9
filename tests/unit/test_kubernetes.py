"""deploy/kubernetes: every overlay renders (kubectl kustomize), passes Kubernetes' own schemas
strictly (kubernetes-validate) and yamllint, and keeps our rules: probes, limits and a non-root,
read-only container in every Deployment, the gateway the only way in, a disruption budget and
an autoscaler per process, and every variable of the configuration contract wired."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera_launcher.launch import service_specs

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES / "overlays").iterdir())
BIN = Path(sys.executable).parent
PROCESSES = {spec.name for spec in service_specs({})}
# Read by the launcher, never by a process a cluster runs.
LAUNCHER_ONLY = {"PORT", "TESSERA_VAR_DIR"}


@cache
def rendered(overlay: str) -> str:
    result = subprocess.run([BIN / "kubectl", "kustomize", KUBERNETES / "overlays" / overlay],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in yaml.safe_load_all(rendered(overlay))
            if item["kind"] == kind}


def containers(item: dict[str, Any]) -> list[dict[str, Any]]:
    return item["spec"]["template"]["spec"]["containers"]


def test_there_are_the_two_overlays():
    assert OVERLAYS == ["dev", "production"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_is_valid_kubernetes(overlay, tmp_path):
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered(overlay))
    result = subprocess.run([BIN / "kubernetes-validate", "--strict", "--quiet", manifest],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_manifests_pass_yamllint():
    result = subprocess.run([BIN / "yamllint", "--strict", "-c", KUBERNETES / ".yamllint.yaml",
                             KUBERNETES], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_is_a_deployment_of_the_one_image_with_its_budget_and_autoscaler(
        overlay):
    deployments = objects(overlay, "Deployment")
    assert set(deployments) == PROCESSES
    for name, deployment in deployments.items():
        (container,) = containers(deployment)
        assert container["args"] == [name]  # `tessera serve <name>`, the image's entrypoint
        assert len({c["image"] for d in deployments.values() for c in containers(d)}) == 1
    assert set(objects(overlay, "PodDisruptionBudget")) == PROCESSES
    # The autoscaler keeps the number of pods: an apply must not reset it.
    assert not [name for name, d in deployments.items() if "replicas" in d["spec"]]
    scalers = objects(overlay, "HorizontalPodAutoscaler")
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scalers.values()} == PROCESSES
    assert set(objects(overlay, "Service")) == PROCESSES


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_probes_limits_and_runs_as_no_root_on_a_read_only_root(overlay):
    workloads = [*objects(overlay, "Deployment").values(), *objects(overlay, "Job").values()]
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert container["resources"]["limits"]["memory"]
            assert container["resources"]["requests"]["cpu"]
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            if workload["kind"] == "Deployment":
                assert {"readinessProbe", "livenessProbe"} <= set(container)
    for name, deployment in objects(overlay, "Deployment").items():
        (container,) = containers(deployment)
        if name == "gateway":  # its health speaks for every service, its metrics for no one
            continue            # outside its host (see gateway.yaml)
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health-check"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_from_outside_and_services_only_from_inside(overlay):
    (ingress,) = objects(overlay, "Ingress").values()
    backends = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends == {"gateway"}
    policies = objects(overlay, "NetworkPolicy")
    assert policies["tessera-gateway"]["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "ingress-nginx"}}}]  # it believes their headers
    assert policies["tessera-default-deny"]["spec"] == {"podSelector": {},
                                                        "policyTypes": ["Ingress"]}
    allowed = policies["tessera-services"]["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "gateway"}}} in allowed
    components = {name: d["spec"]["template"]["metadata"]["labels"]
                  ["app.kubernetes.io/component"]
                  for name, d in objects(overlay, "Deployment").items()}
    assert components == {name: "gateway" if name == "gateway" else "service"
                          for name in PROCESSES}


def contract() -> set[str]:
    """The variables of README.md's configuration table."""
    table = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n\n")[2]
    names = set()
    for row in table.splitlines()[2:]:
        for name in re.findall(r"`([A-Z][A-Z0-9_/]+)`", row.split("|")[1]):
            base, *others = name.split("/")
            names.add(base)
            names.update(base.rsplit("_", 1)[0] + "_" + other for other in others)
    return names


def secret_keys() -> set[str]:
    example = (KUBERNETES / "tessera-secrets.example.env").read_text()
    return {line.split("=", 1)[0] for line in example.splitlines()
            if line and not line.startswith("#")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_of_the_configuration_contract_is_wired(overlay):
    (config,) = objects(overlay, "ConfigMap").values()
    wired = set(config["data"]) | secret_keys()
    assert {"DATABASE_URL", "INTERNAL_SECRET", "SECRET_KEY", "OAUTH_GITHUB_CLIENT_SECRET",
            "REDIS_SENTINELS", "USER_SERVICE_URL"} <= contract()
    assert contract() - LAUNCHER_ONLY - wired == set()
    assert not set(config["data"]) & secret_keys()  # a secret never sits in the ConfigMap
    for workload in [*objects(overlay, "Deployment").values(), *objects(overlay, "Job").values()]:
        for container in containers(workload):
            sources = container["envFrom"]
            assert {"secretRef": {"name": "tessera-secrets"}} in sources
            assert any(s.get("configMapRef", {}).get("name") == config["metadata"]["name"]
                       for s in sources)
