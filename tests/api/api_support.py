"""Helpers of the API tests: a spec to serve, and a real uvicorn server on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "rotated-token-fedcba9876543210"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# the ICP the API, fault and soak tests serve: tests/acme-icp.yaml
SPEC_YAML = (Path(__file__).resolve().parents[1] / "acme-icp.yaml").read_text(encoding="utf-8")

# the same ICP with employees worth more: another content hash, other scores
SPEC_V2_YAML = SPEC_YAML.replace("version: 3", "version: 4").replace(
    "between: [50, 500], points: 20", "between: [50, 500], points: 25"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread (lifespan on, so the version watcher runs)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# two ICPs in one spec: mid-market software and enterprise manufacturing, each with its own routing
SEGMENTED_YAML = """\
name: acme-segments
version: 2
as_of: 2026-09-30
segments:
  - name: midmarket
    description: Software on HubSpot
    layers:
      firmographic:
        - {field: industry, in: [Software], points: 40}
        - {field: employees, between: [50, 500], points: 30}
      technographic:
        - {field: tech_stack, contains_any: [HubSpot], points: 30}
    exclusions:
      - {field: business_model, in: [B2C], reason: churns}
    tiers: {tier1: 70, tier2: 50, tier3: 30}
    routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
  - name: enterprise
    layers:
      firmographic:
        - {field: industry, in: [Manufacturing], points: 50}
        - {field: employees, gte: 1000, points: 50}
    tiers: {tier1: 80, tier2: 50, tier3: 30}
    routing: {tier1: enterprise_ae, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""

# the single ICP with buyer personas and a rule that sends tier1 economic buyers to an account executive
PERSONA_YAML = (
    SPEC_YAML
    + """\
personas:
  - name: economic_buyer
    description: signs the contract
    titles: [vp, chief*, head of]
    exclude_titles: [assistant]
  - name: champion
    titles: [manager]
    department: [sales, marketing]
routing_rules:
  - {tier: [tier1], persona: [economic_buyer], route: account_executive}
"""
)
