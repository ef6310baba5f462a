"""The citizen and company web portal: ``govbus web``.

A Starlette application (server-rendered Jinja2 pages that work without JavaScript) in front of an
ordinary bus participant (``MA/GOV/PORTAIL/guichet`` by default). Citizens (CIN) and companies (ICE)
register, deposit letters with any administration whose mail office the signed catalogue lists, get
the office's signed acknowledgement of receipt, and follow their letters' status live. The portal
talks to administrations only through the SDK: a ``DepositorSystem`` receives status steps and replies,
a ``Client`` calls the offices' ``mail.deposit``. See docs/portal.md.
"""
