"""Schemathesis against the OpenAPI document of ``/api/v1`` on a live server.

A real ``ruang serve`` with the demo data and a real API token (every scope, made with
``ruang tokens create``). For every operation the document lists, schemathesis generates
requests from the document (valid and invalid ones) and checks each response: no 5xx,
the status code, content type, headers and body as the document says. All problems of all
operations are collected and reported together.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err

from tests.fixtures.servers import run_ruang

pytestmark = [pytest.mark.live]

EXAMPLES_PER_OPERATION = 15

# Differences between the document and the behaviour found by this test and not yet fixed
# (neither is a server error; see the report of issue #11). Any other problem fails.
KNOWN = {
    # A rule across fields ("an e-mail or a phone number") is not in the schema, and the
    # 422 it gives lacks the `errors` list ValidationErrorBody promises.
    "POST /helpdesk/tickets": {"ST202", "ST108"},
    # `start` and `end` are needed but not marked required; 422 is not documented.
    "GET /lab/labs/{code}/busy": {"ST202", "ST103"},
}


def all_scopes(instance: Any) -> list[str]:
    out = run_ruang("tokens", "scopes", instance=instance).stdout
    return re.findall(r"^(\S+)$", out, re.MULTILINE)


def test_every_api_operation_keeps_to_its_document(instance, live_server):
    server = live_server(instance=instance)
    scopes = all_scopes(instance)
    assert "profile" in scopes
    args = [a for s in scopes for a in ("--scope", s)]
    secret = run_ruang("tokens", "create", "--user", "admin", "--name", "schemathesis", *args,
                       instance=instance).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")

    failures: list[str] = []
    known: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the document has an operation schemathesis cannot read: "
                            f"{result.err()}")
            continue
        operation = result.ok()
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), unused=st.none())
        def run(case: Any, unused: None) -> None:
            case.call_and_validate(base_url=server.url + "/api/v1", headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's problems
            text = str(exc)
            codes = set(re.findall(r"^- (ST\d+) ", text, re.MULTILINE))
            if codes and codes <= KNOWN.get(label, set()):
                known.append(f"{label}: {', '.join(sorted(codes))}")
                continue
            failures.append(f"{label}: {text[:3000]}")
    assert operations >= 5
    assert not failures, "\n\n".join(failures)
    print(f"{operations} operations, {EXAMPLES_PER_OPERATION} examples each, no server error;"
          f" known differences: {'; '.join(known) or 'none'}")
    run_ruang("audit", "verify", instance=instance)
