"""`python -m convbert_tf` is the `convbert-tf` command."""

import sys

from convbert_tf.cli import main

sys.exit(main())
