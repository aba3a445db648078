"""Schemathesis over the generated OpenAPI schema: no generated request may produce a 5xx.

Driven from a plain test (schemathesis' pytest plugin does not run under pytest 9 yet):
every operation's Hypothesis strategy from the schema, each case sent to a real server."""

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

# The default run sends 300; `YUYI_FUZZ_EXAMPLES=2000 pytest tests/serve/test_schema_fuzz.py` for the long run.
EXAMPLES = int(os.environ.get("YUYI_FUZZ_EXAMPLES", "300"))


def test_no_generated_request_gets_a_server_error(server):
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    strategy = st.one_of(*[op.as_strategy() for op in operations])
    seen: set[str] = set()

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        seen.add(f"{case.method} {case.path}")
        case.call_and_validate(base_url=server.url, checks=[not_a_server_error])

    check()
    assert len(seen) >= 8, seen
    print(f"schemathesis: {EXAMPLES} generated requests over {len(seen)} operations, 0 server errors")
