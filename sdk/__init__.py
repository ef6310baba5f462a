"""The govbus SDK: what provider and consumer agencies write their teleservices with."""

from pydantic_xml import attr, element, wrapped

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.logging import configure_logging
from sdk.app import App, Provider, Running, Subscriber
from sdk.client import Client
from sdk.compose import open_node
from sdk.context import Context
from sdk.contract import Contract, Notification, Payload, RequestReply
from sdk.environment import Environment, resource
from sdk.errors import CallFailed, ServiceError
from sdk.node import Node
from sdk.outbox import Outbox, OutboxMessage, OutboxPump
from sdk.periodic import Periodic
from sdk.receipts import NotifyResult, Receipt
from sdk.resources import Resource, inject
from sdk.store import Store

__all__ = [
    "App",
    "CallFailed",
    "Client",
    "Context",
    "Contract",
    "Environment",
    "Fault",
    "FaultCode",
    "Node",
    "Notification",
    "NotifyResult",
    "Outbox",
    "OutboxMessage",
    "OutboxPump",
    "ParticipantId",
    "Payload",
    "Periodic",
    "Provider",
    "Receipt",
    "RequestReply",
    "Resource",
    "Running",
    "ServiceError",
    "ServiceId",
    "Store",
    "Subscriber",
    "attr",
    "configure_logging",
    "element",
    "inject",
    "open_node",
    "resource",
    "wrapped",
]
