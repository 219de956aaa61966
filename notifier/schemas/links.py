"""What ``GET /api/v1/notifications/<id>/clicks`` answers."""

from marshmallow import Schema, fields


class TargetClicksSchema(Schema):
    """The clicks on one target of a notification."""

    target = fields.String(required=True, metadata={'description': 'The link as the template wrote it.'})
    clicks = fields.Integer(required=True, metadata={'description': 'Every GET of a short link to it.'})
    clicked_deliveries = fields.Integer(
        required=True, metadata={'description': 'Deliveries (recipients x channels) that clicked it at least once.'},
    )


class NotificationClicksSchema(Schema):
    """The clicks on the short links of one notification (a mailing is one notification)."""

    notification_id = fields.String(required=True)
    clicks = fields.Integer(required=True)
    targets = fields.List(fields.Nested(TargetClicksSchema), required=True)
