"""schemathesis against the dashboard's OpenAPI spec: generated requests, valid (positive) and
invalid (negative), to every API operation never get a 5xx answer. Bounded: a few examples per
operation and mode; operations without parameters have no invalid form."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

EXAMPLES = 8


def test_no_operation_answers_with_a_server_error(bundled_store: Path) -> None:
    from kechuang.web.app import _warm, create_app

    _warm(bundled_store)  # numba compiles the backtest kernels on first use: not per request
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(bundled_store,
                                                                        warm=False))
    seen = []
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for result, mode in itertools.product(schema.get_all_operations(), modes):
        op = result.ok()
        raw = op.definition.raw
        if mode == GenerationMode.NEGATIVE and not (raw.get("parameters")
                                                    or raw.get("requestBody")):
            continue
        seen.append(op.label)

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(timeout=60)
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert len(set(seen)) == 11, seen
