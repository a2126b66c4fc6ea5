"""Thin launcher for the main job; the program itself is ember/examples/digits.py.

    python -m ember.examples.digits --out runs/digits
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ember.examples.digits import main  # noqa: E402

if __name__ == "__main__":
    main()
