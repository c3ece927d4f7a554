"""What Lumen shows people: Block Kit builders, the texts they read, and the card and view
dataclasses the builders take. Pure: data in, blocks out, within Slack's limits.

It imports only `lumen.domain` and `lumen.db.enums`; features build the cards, edges send them.
"""
