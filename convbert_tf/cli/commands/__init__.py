"""Subcommands of `convbert-tf`: one module each, discovered by `convbert_tf.cli`."""
