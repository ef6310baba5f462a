"""RabbitMQ transport on pika (``amqp://`` and ``amqps://``): see ``transport.py`` for the layout."""

from bus.transport.rabbitmq.transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HEARTBEAT,
    RabbitMQTransport,
)

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_HEARTBEAT", "RabbitMQTransport"]
