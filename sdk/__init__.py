"""The govbus SDK: what provider and consumer agencies write their teleservices with."""

from pydantic_xml import attr, element, wrapped

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.logging import configure_logging
from sdk.app import App, Provider, Running, Subscriber
from sdk.client import Client
from sdk.context import Context
from sdk.contract import Contract, Notification, Payload, RequestReply
from sdk.errors import CallFailed, ServiceError
from sdk.node import Node
from sdk.periodic import Periodic
from sdk.receipts import NotifyResult, Receipt

__all__ = [
    "App",
    "CallFailed",
    "Client",
    "Context",
    "Contract",
    "Fault",
    "FaultCode",
    "Node",
    "Notification",
    "NotifyResult",
    "ParticipantId",
    "Payload",
    "Periodic",
    "Provider",
    "Receipt",
    "RequestReply",
    "Running",
    "ServiceError",
    "ServiceId",
    "Subscriber",
    "attr",
    "configure_logging",
    "element",
    "wrapped",
]
