"""`python -m benchmarks BENCHMARK [options]`: run one benchmark and write its section of
benchmarks/RESULTS.md.

    python -m benchmarks prove [--repeat N] [--sizes 10,100,1000] [--naive-timeout 60]

Other benchmarks living in this package as `NAME_bench.py` with a `main()` reading `sys.argv`
(validate, audit, diff) are run the same way: `python -m benchmarks validate ...`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem[: -len("_bench")] for p in here.glob("*_bench.py"))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nbenchmarks: " + ", ".join(names))
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in names:
        print(f"python -m benchmarks: unknown benchmark {name!r}; one of: {', '.join(names)}", file=sys.stderr)
        return 2
    if name == "prove":
        from benchmarks.prove_bench import main as prove_main

        return prove_main(rest)
    module = importlib.import_module(f"benchmarks.{name}_bench")
    sys.argv = [f"python -m benchmarks {name}"] + rest
    result = module.main()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
