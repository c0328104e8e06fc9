from datetime import UTC, datetime

import marshmallow as ma
import pytest
from marshmallow import fields, validate

from tessera_shared.validation import OmitNone, Schema, Text, Timestamp, classify, not_blank


class Form(Schema):
    name = Text(required=True, validate=[validate.Length(min=3, max=20), not_blank])
    count = fields.Integer()


def failure(data):
    try:
        Form().load(data)
    except ma.ValidationError as error:
        return classify(Form(), data, error.messages)
    pytest.fail("the form accepted bad input")


@pytest.mark.parametrize("data", [
    {},                          # missing field
    {"name": 5},                 # wrong type
    {"name": None},              # null
    {"name": "good", "count": "many"},
    ["not", "an", "object"],
])
def test_a_wrong_shape_is_a_bad_request(data):
    assert failure(data).code == "general:bad_request"


@pytest.mark.parametrize("data", [
    {"name": "ab"},              # too short
    {"name": "x" * 21},          # too long
    {"name": "   "},             # blank
    {"name": "nul\x00byte"},     # a database cannot store it
    {"name": "lone\ud800"},      # not encodable as UTF-8
])
def test_a_value_breaking_a_rule_is_a_validation_error(data):
    assert failure(data).code == "general:validation_error"


def test_unknown_fields_are_ignored_like_the_original_apis_do():
    assert Form().load({"name": "good", "extra": 1}) == {"name": "good"}


def test_responses_leave_out_empty_optional_fields_and_write_times_with_z():
    class Out(OmitNone):
        bio = fields.String()
        at = Timestamp()

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert Out().dump({"bio": None, "at": moment}) == {"at": "2026-01-02T03:04:05Z"}
