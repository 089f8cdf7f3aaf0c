"""infra/k8s renders and validates, and every policy rule of tools/k8s_check.py bites."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

Objs = list[dict[str, Any]]


def find(objs: Objs, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def app_container(objs: Objs, name: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = find(objs, "Deployment", name)["spec"]["template"]["spec"][
        "containers"
    ]
    return next(c for c in containers if c["name"] == "app")


def ref(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def rules(violations: list[Any]) -> set[tuple[str, str]]:
    return {(v.obj, v.rule) for v in violations}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_overlay_renders_validates_and_passes_policy(k8s_check: ModuleType, overlay: str) -> None:
    objs, violations = k8s_check.check_overlay(overlay, k8s_check.find_kubectl())
    assert [str(v) for v in violations] == []
    kinds = {o["kind"] for o in objs}
    assert {"Namespace", "StatefulSet", "Deployment", "NetworkPolicy", "HorizontalPodAutoscaler"} <= kinds


def test_fallback_when_kubectl_is_missing(
    k8s_check: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "")
    assert k8s_check.find_kubectl() is None
    assert k8s_check.main([]) == 0
    out = capsys.readouterr().out
    assert k8s_check.FALLBACK_MESSAGE in out
    assert "overlay prod" in out and "built-in renderer" in out


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_builtin_renderer_matches_kubectl_kustomize(k8s_check: ModuleType, overlay: str) -> None:
    path = k8s_check.K8S_DIR / "overlays" / overlay
    text = json.dumps(k8s_check.render(path, shutil.which("kubectl")))
    # kustomize suffixes generated ConfigMap names with a content hash; the built-in renderer does not.
    unhashed = re.sub(r'"(tradeloom-env|nats-config|timescaledb-init)-[a-z0-9]{10}"', r'"\1"', text)
    by_kubectl = {ref(o): o for o in json.loads(unhashed)}
    builtin = {ref(o): o for o in k8s_check.render_fallback(path)}
    assert sorted(by_kubectl) == sorted(builtin)
    for name, obj in by_kubectl.items():
        assert obj == builtin[name], name


def test_read_only_root_filesystem_is_required(k8s_check: ModuleType, prod_objects: Objs) -> None:
    del app_container(prod_objects, "market-data")["securityContext"]["readOnlyRootFilesystem"]
    found = k8s_check.policy_violations(prod_objects)
    assert rules(found) == {("Deployment/market-data", "readOnlyRootFilesystem")}
    assert "container app" in str(found[0])


def test_default_deny_policy_is_required(k8s_check: ModuleType, prod_objects: Objs) -> None:
    prod_objects.remove(find(prod_objects, "NetworkPolicy", "default-deny-all"))
    assert rules(k8s_check.policy_violations(prod_objects)) == {("NetworkPolicy/*", "default-deny")}


def test_only_the_gateway_accepts_ingress_from_outside(k8s_check: ModuleType, prod_objects: Objs) -> None:
    prod_objects.append({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "market-data-public", "namespace": "tradeloom"},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "market-data"}},
                 "policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": 8081}]}]},
    })  # fmt: skip
    assert k8s_check.schema_violations(prod_objects[-1:]) == []
    found = k8s_check.policy_violations(prod_objects)
    assert rules(found) == {("NetworkPolicy/market-data-public", "ingress-from-outside")}


def test_gateway_ingress_must_stay_on_its_public_port(k8s_check: ModuleType, prod_objects: Objs) -> None:
    find(prod_objects, "NetworkPolicy", "gateway-auth-ingress")["spec"]["ingress"][0]["ports"] = [
        {"port": 8081}
    ]
    assert rules(k8s_check.policy_violations(prod_objects)) == {
        ("NetworkPolicy/gateway-auth-ingress", "ingress-from-outside")
    }


def test_service_egress_is_limited(k8s_check: ModuleType, prod_objects: Objs) -> None:
    egress = find(prod_objects, "NetworkPolicy", "services-egress")["spec"]["egress"]
    egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]})
    found = rules(k8s_check.policy_violations(prod_objects))
    assert ("NetworkPolicy/services-egress", "service-egress") in found
    assert {rule for _, rule in found} == {"service-egress"}


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_probes_are_required(k8s_check: ModuleType, prod_objects: Objs, probe: str) -> None:
    del app_container(prod_objects, "order-router")[probe]
    assert rules(k8s_check.policy_violations(prod_objects)) == {("Deployment/order-router", probe)}


def test_probe_paths_are_checked(k8s_check: ModuleType, prod_objects: Objs) -> None:
    app_container(prod_objects, "risk-monitor")["readinessProbe"]["httpGet"]["path"] = "/healthz"
    assert rules(k8s_check.policy_violations(prod_objects)) == {("Deployment/risk-monitor", "readinessProbe")}


def test_migrate_init_container_is_required(k8s_check: ModuleType, prod_objects: Objs) -> None:
    pod = find(prod_objects, "Deployment", "analytics")["spec"]["template"]["spec"]
    pod["initContainers"] = [c for c in pod["initContainers"] if c["name"] != "migrate"]
    assert rules(k8s_check.policy_violations(prod_objects)) == {("Deployment/analytics", "migrate-init")}


def test_resources_and_privileges(k8s_check: ModuleType, prod_objects: Objs) -> None:
    app = app_container(prod_objects, "strategy-runner")
    del app["resources"]["limits"]
    app["securityContext"].update(
        allowPrivilegeEscalation=True, runAsUser=0, capabilities={"add": ["NET_ADMIN"]}
    )
    found = rules(k8s_check.policy_violations(prod_objects))
    expected = {"resources", "allowPrivilegeEscalation", "runAsUser", "capabilities"}
    assert found == {("Deployment/strategy-runner", rule) for rule in expected}


def test_statefulsets_are_hardened_too(k8s_check: ModuleType, prod_objects: Objs) -> None:
    nats = find(prod_objects, "StatefulSet", "nats")["spec"]["template"]["spec"]
    nats["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    del nats["containers"][0]["securityContext"]["runAsNonRoot"]  # then the pod's setting counts
    nats["securityContext"]["runAsNonRoot"] = False
    found = rules(k8s_check.policy_violations(prod_objects))
    assert found == {("StatefulSet/nats", "readOnlyRootFilesystem"), ("StatefulSet/nats", "runAsNonRoot")}


def test_hpas_are_required(k8s_check: ModuleType, prod_objects: Objs) -> None:
    prod_objects.remove(find(prod_objects, "HorizontalPodAutoscaler", "sandbox-executor"))
    find(prod_objects, "Deployment", "backtest-engine")["spec"]["replicas"] = 3
    found = rules(k8s_check.policy_violations(prod_objects))
    assert found == {
        ("HorizontalPodAutoscaler/sandbox-executor", "hpa"),
        ("Deployment/backtest-engine", "hpa"),
    }


def test_secret_data_is_refused_outside_dev(
    k8s_check: ModuleType, prod_objects: Objs, dev_objects: Objs
) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tradeloom-secrets"},
        "data": {"X": "eA=="},
    }
    assert rules(k8s_check.policy_violations([*prod_objects, secret], "prod")) == {
        ("Secret/tradeloom-secrets", "secret-in-git")
    }
    assert k8s_check.policy_violations([*dev_objects, secret], "dev") == []


def test_nats_must_sync_every_write(k8s_check: ModuleType, prod_objects: Objs) -> None:
    cm = find(prod_objects, "ConfigMap", "nats-config")
    cm["data"]["nats.conf"] = cm["data"]["nats.conf"].replace("sync_interval: always", "sync_interval: 2m")
    assert rules(k8s_check.policy_violations(prod_objects)) == {("ConfigMap/nats-config", "nats-durability")}


def test_latest_images_are_refused(k8s_check: ModuleType, prod_objects: Objs) -> None:
    app_container(prod_objects, "gateway-auth")["image"] = "tradeloom/gateway-auth:latest"
    assert rules(k8s_check.policy_violations(prod_objects)) == {("Deployment/gateway-auth", "image-tag")}


def test_schema_validation_is_strict(k8s_check: ModuleType, prod_objects: Objs) -> None:
    app_container(prod_objects, "analytics")["readinesProbe"] = {}
    found = k8s_check.schema_violations([find(prod_objects, "Deployment", "analytics")])
    assert rules(found) == {("Deployment/analytics", "schema")}
    assert "readinesProbe" in found[0].detail


def test_main_names_object_and_rule(
    k8s_check: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(k8s_check.K8S_DIR, copy)
    policies = copy / "base" / "network-policies.yaml"
    policies.write_text(
        policies.read_text().replace("name: default-deny-all", "name: default-deny-all\n  labels: {}", 1)
    )
    text = (copy / "base" / "hpa.yaml").read_text()
    (copy / "base" / "hpa.yaml").write_text(
        text.replace("name: sandbox-executor\n  minReplicas", "name: sandbox\n  minReplicas")
    )
    monkeypatch.setattr(k8s_check, "K8S_DIR", copy)
    assert k8s_check.main(["--no-kubectl", "prod"]) == 1
    err = capsys.readouterr().err
    assert "HorizontalPodAutoscaler/sandbox-executor: [hpa]" in err


def test_broken_yaml_is_reported(k8s_check: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    assert [v.rule for v in k8s_check.yaml_violations(tmp_path)] == ["yaml"]


def test_gvisor_component_keeps_prod_valid(k8s_check: ModuleType, tmp_path: Path) -> None:
    k8s = k8s_check.K8S_DIR
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{k8s / 'overlays' / 'prod'}]\ncomponents: [{k8s / 'components' / 'sandbox-gvisor'}]\n"
    )
    objs = k8s_check.render_fallback(tmp_path)
    pod = find(objs, "Deployment", "sandbox-executor")["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == find(objs, "RuntimeClass", "gvisor")["metadata"]["name"]
    assert k8s_check.schema_violations(objs) == []
    assert k8s_check.policy_violations(objs, "prod") == []
