"""Backbones (functional keras-hub models) and their architecture presets."""

from convbert_tf.models.convbert_backbone import ConvBertBackbone
from convbert_tf.models.groupbert_backbone import GroupBertBackbone

__all__ = ["ConvBertBackbone", "GroupBertBackbone"]
