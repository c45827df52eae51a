"""A small model of Kubernetes NetworkPolicy: may this endpoint open a connection to that one?

Enough of networking.k8s.io/v1 to check k8s/'s claims offline. A pod selected by a policy of a
direction (policyTypes) is isolated in that direction and takes only what some rule of such a
policy allows; a rule matches when one of its peers (podSelector and/or namespaceSelector, or
ipBlock) and one of its ports (number, name, endPort range; no ports: all) match. A connection
passes when the source's egress and the destination's ingress both let it. Services are not
modelled: traffic is pod to pod after the Service's address translation, as plugins see it.
ipBlock is matched against pod addresses too, which some plugins do and some do not: a claim
that something cannot connect then holds either way. The kubelet's probes are not modelled
(traffic from a pod's own node always passes).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """A pod (with a namespace) or an address outside the cluster (namespace None)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)  # named container ports

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}


def selects(selector: Obj, labels: Mapping[str, str]) -> bool:
    """A label selector; the empty one selects everything."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _peer_matches(peer: Obj, other: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), other.labels)


def _port_matches(ports: list[Obj], target: Endpoint, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted: int | str | None = entry.get("port")
        if wanted is None:  # every port of the protocol
            return True
        if isinstance(wanted, str):  # a named port of the destination
            if target.ports.get(wanted) == port:
                return True
        elif wanted <= port <= int(entry.get("endPort", wanted)):
            return True
    return False


def _policy_types(spec: Obj) -> list[str]:
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _admits(
    policies: Iterable[Obj],
    pod: Endpoint,
    direction: str,
    other: Endpoint,
    target: Endpoint,
    port: int,
    protocol: str,
) -> bool:
    if pod.namespace is None:
        return True  # outside the cluster: not ours to model
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolated = False
    for policy in policies:
        spec, namespace = policy["spec"], policy["metadata"]["namespace"]
        if namespace != pod.namespace or direction not in _policy_types(spec):
            continue
        if not selects(spec["podSelector"], pod.labels):
            continue
        isolated = True
        for rule in spec.get(rules_key, []):
            peers = rule.get(peers_key) or [None]  # none listed: every peer
            peer_ok = any(p is None or _peer_matches(p, other, namespace) for p in peers)
            if peer_ok and _port_matches(rule.get("ports", []), target, port, protocol):
                return True
    return not isolated


def allowed(
    policies: list[Obj], source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether `source` may open a connection to `target` on `port`."""
    return _admits(policies, source, "Egress", target, target, port, protocol) and _admits(
        policies, target, "Ingress", source, target, port, protocol
    )


def egress_allowed(
    policies: list[Obj], source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether `source`'s own side lets it open the connection, whatever `target` admits: for
    claims that each side holds by itself."""
    return _admits(policies, source, "Egress", target, target, port, protocol)
