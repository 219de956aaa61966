"""How a mailing's progress and the rate limits look in API answers (for the OpenAPI document)."""

from marshmallow import Schema, fields


class ProgressSchema(Schema):
    """A mailing's progress."""

    id = fields.String(required=True)
    state = fields.String(required=True, metadata={'description': 'expanding, paused, cancelled or expanded'})
    total = fields.Integer(required=True, allow_none=True)
    expanded = fields.Integer(required=True)
    queued = fields.Integer(required=True)
    sent = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    retrying = fields.Integer(required=True)
    skipped_reasons = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    per_second = fields.Float(required=True)
    eta_seconds = fields.Integer(required=True, allow_none=True)


class LimitSchema(Schema):
    """One rate limit."""

    name = fields.String(required=True)
    per_second = fields.Float(required=True)


class LimitListSchema(Schema):
    """Every configured limit."""

    limits = fields.List(fields.Nested(LimitSchema), data_key='items', required=True)


class RateBodySchema(Schema):
    """The body of ``PUT /api/v1/limits/<name>``."""

    rate = fields.String(required=True, metadata={'description': '500/s, 30/m, 7200/h or a number per second'})
