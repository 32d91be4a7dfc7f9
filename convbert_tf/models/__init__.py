"""Backbones (functional keras-hub models), their architecture presets, and `load_backbone`."""

from convbert_tf.models.convbert_backbone import ConvBertBackbone
from convbert_tf.models.groupbert_backbone import GroupBertBackbone
from convbert_tf.models.load_backbone import load_backbone

__all__ = ["ConvBertBackbone", "GroupBertBackbone", "load_backbone"]
