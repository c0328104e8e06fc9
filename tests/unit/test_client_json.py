"""Clients' JSON: whatever they send, too deep is malformed, never a crash."""

import json

import pytest

from tessera_shared import client_json
from tessera_shared.client_json import MAX_DEPTH


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@pytest.mark.parametrize("text", ['{"a": 1}', "[]", '"text"', "7", "null",
                                  nested(MAX_DEPTH), '{"a":' * (MAX_DEPTH - 1) + "{}"
                                  + "}" * (MAX_DEPTH - 1)])
def test_ordinary_json_up_to_the_depth_limit_reads_as_json(text):
    assert client_json.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", [nested(MAX_DEPTH + 1), nested(100_000),
                                  '{"a":' * 100_000 + "1" + "}" * 100_000,
                                  "[" * 100_000])
def test_json_nested_past_the_limit_is_a_value_error_not_a_recursion_error(text):
    with pytest.raises(ValueError, match="nested more than"):
        client_json.loads(text)


def test_not_json_is_a_value_error():
    with pytest.raises(ValueError, match="Expecting property name"):
        client_json.loads("{not json")


def test_a_number_too_long_to_convert_is_malformed_json_too():
    with pytest.raises(json.JSONDecodeError, match="digits"):
        client_json.loads('{"n": ' + "1" * 5000 + "}")


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", '{"b": -Infinity}'])
def test_nan_and_infinity_are_not_json_though_python_reads_them(text):
    with pytest.raises(json.JSONDecodeError, match="not JSON"):
        client_json.loads(text)
