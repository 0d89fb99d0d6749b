"""A worker process of the organisation audit that fails on purpose, for the tests of the pool and of
Dask: `python -m tests.organisation.faulty_worker --die-once DIR` ends its process (exit 3) the first time
it meets each unit (a marker file per unit in DIR says it did), so that every unit is retried once;
`--hang NAME` never answers the unit named NAME (it runs past any time limit)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

from kmssmt.organisation import worker


def faulty(mode: str, argument: str) -> Callable[[str], str]:
    def work(text: str) -> str:
        unit = json.loads(text)
        if mode == "--die-once":
            marker = os.path.join(argument, f"{unit['kind']}-{unit['name'].replace('<-', '-')}")
            if not os.path.exists(marker):
                with open(marker, "w", encoding="utf-8") as handle:
                    handle.write(str(os.getpid()))
                os._exit(3)
        elif mode == "--hang" and unit["name"] == argument:
            time.sleep(3600)
        return worker.run(text)

    return work


if __name__ == "__main__":
    sys.exit(worker.main(faulty(sys.argv[1], sys.argv[2])))
