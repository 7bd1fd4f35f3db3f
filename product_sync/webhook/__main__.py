"""``python -m product_sync.webhook``: the same as ``product-sync-webhook``."""

import sys

from product_sync.webhook.app import main

sys.exit(main())
