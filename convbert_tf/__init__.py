"""convbert_tf: ConvBERT and GroupBERT as first-class Keras 3 citizens.

Layers (`convbert_tf.layers`) -> backbones -> tasks -> training / export / CLI.
"""

__version__ = "0.1.0"

from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

__all__ = ["ConvBertBackbone", "GroupBertBackbone", "__version__"]
