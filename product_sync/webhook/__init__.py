"""HTTP webhook that turns "these products changed" notifications into targeted runs of
``sync_job`` through Dagster's GraphQL API, and reports recent sync runs.

Run it with the ``product-sync-webhook`` console script; see ``docs/webhook.md``.
"""
