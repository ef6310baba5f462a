"""The audit participant: keeps every participant's message-log checkpoints so none can rewrite its history.

Run it with ``govbus run teleservices.audit_anchor:app`` (participant ``$GOVBUS_AUDIT_ANCHOR_ID``, default
``MA/GOV/AUDIT/anchor``). It serves ``audit.checkpoint`` v1 (``sdk.anchoring.ANCHOR_CHECKPOINT``): each
checkpoint is verified and kept in ``anchors.sqlite`` in its data directory (the ``ANCHORS`` resource), and answered with a signed
``audit:Anchored`` acknowledgement. Auditors give that file to ``govbus audit verify LOG --anchors``.
"""

from teleservices.audit_anchor.service import ANCHORS, ANCHORS_FILE, PARTICIPANT, app

__all__ = ["ANCHORS", "ANCHORS_FILE", "PARTICIPANT", "app"]
