"""One measurement in a fresh process: `python -m bench.child MODULE FUNCTION JSON_KWARGS`.

Every measurement runs in a process of its own, so no run inherits another's heap, caches or
garbage; the parent reads the one result line this prints (see `bench.harness.in_child`).
"""

from __future__ import annotations

import importlib
import json
import logging
import sys

RESULT = "BENCH-RESULT "


def main() -> None:
    module, function, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    result = getattr(importlib.import_module(f"bench.{module}"), function)(**kwargs)
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
