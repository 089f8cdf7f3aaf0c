"""The NATS-identity and TLS rules of tools/k8s_check.py bite (tools/k8s_check_security.py)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

Objs = list[dict[str, Any]]


def find(objs: Objs, kind: str, prefix: str) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"].startswith(prefix))


def rules(violations: list[Any]) -> set[tuple[str, str]]:
    return {(v.obj, v.rule) for v in violations}


def test_both_overlays_pass(k8s_check: ModuleType, prod_objects: Objs, dev_objects: Objs) -> None:
    assert k8s_check.security_violations(prod_objects, "prod") == []
    assert k8s_check.security_violations(dev_objects, "dev") == []


def test_auth_conf_must_be_the_generated_one(k8s_check: ModuleType, dev_objects: Objs) -> None:
    config = find(dev_objects, "ConfigMap", "nats-config")["data"]
    config["auth.conf"] = config["auth.conf"].replace('"md.evt.>"', '"md.>"')
    found = k8s_check.security_violations(dev_objects, "dev")
    assert rules(found) == {("ConfigMap/nats-config", "nats-auth")}
    assert "regenerate" in str(found[0])


def test_nats_conf_must_include_the_users(k8s_check: ModuleType, dev_objects: Objs) -> None:
    config = find(dev_objects, "ConfigMap", "nats-config")["data"]
    config["nats.conf"] = config["nats.conf"].replace("include auth.conf", "")
    assert rules(k8s_check.security_violations(dev_objects, "dev")) == {
        ("ConfigMap/nats-config", "nats-auth")
    }


def test_nats_needs_every_password_from_the_secret(k8s_check: ModuleType, prod_objects: Objs) -> None:
    nats = find(prod_objects, "StatefulSet", "nats")["spec"]["template"]["spec"]["containers"][0]
    nats["env"] = [e for e in nats["env"] if e["name"] != "TL_ANALYTICS_NATS_PASSWORD"]
    found = k8s_check.security_violations(prod_objects, "prod")
    assert rules(found) == {("StatefulSet/nats", "nats-auth")}
    assert "TL_ANALYTICS_NATS_PASSWORD" in str(found[0])


def test_each_service_mounts_its_own_nats_password(k8s_check: ModuleType, prod_objects: Objs) -> None:
    pod = find(prod_objects, "Deployment", "risk-monitor")["spec"]["template"]["spec"]
    secrets = next(v for v in pod["volumes"] if v["name"] == "secrets")["secret"]
    secrets["items"] = [i for i in secrets["items"] if "NATS" not in i["key"]]
    assert rules(k8s_check.security_violations(prod_objects, "prod")) == {
        ("Deployment/risk-monitor", "nats-auth")
    }


def test_production_nats_serves_tls_and_services_verify_it(k8s_check: ModuleType, prod_objects: Objs) -> None:
    config = find(prod_objects, "ConfigMap", "nats-config")["data"]
    config["nats.conf"] = config["nats.conf"].replace("tls {", "tls_off {")
    del find(prod_objects, "ConfigMap", "tradeloom-env")["data"]["TL_MARKET_DATA_NATS_TLS_CA"]
    found = k8s_check.security_violations(prod_objects, "prod")
    assert rules(found) == {("ConfigMap/nats-config", "tls"), ("ConfigMap/tradeloom-env", "tls")}
    assert any("TL_MARKET_DATA_NATS_TLS_CA" in str(v) for v in found)
