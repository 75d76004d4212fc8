"""`python -m bench`: see bench/run.py."""

import sys

from bench.run import main

# Guarded: a process started with multiprocessing's spawn (the PDF worker) imports this again.
if __name__ == "__main__":
    sys.exit(main())
