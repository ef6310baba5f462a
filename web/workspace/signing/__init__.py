"""The signature book in the agents' workspace (``/workspace/sign/...``): see docs/workspace.md.

``access`` decides who acts as which participant and what they may see; ``book`` makes the signed bus
calls (a signer as their own signatory, an agent as the desk system); ``routes``, ``delegations`` and
``submit`` are the pages; ``viewer`` shows documents; ``letters`` links the mail desk's replies to
signature circuits; ``pages`` renders and translates.
"""
