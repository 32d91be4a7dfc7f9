"""Side-by-side model speed benchmark; see bench/README.md and `bench.speed`.

    python bench/model_speed.py            # full run, writes bench/results/model_speed.{json,png}
    python bench/model_speed.py --quick    # tiny configs: a smoke test
"""

import os
import sys

# Runs from a source checkout without installing the package.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.speed.model_speed import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
