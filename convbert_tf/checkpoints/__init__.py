"""Loading the released ConvBERT weights (Hugging Face and official TF1) and writing presets.

Example:
>>> from convbert_tf.checkpoints import load_hf_checkpoint, convert_checkpoint
>>> backbone = load_hf_checkpoint("conv-bert-small/")   # config.json + model.safetensors
>>> convert_checkpoint("conv-bert-small/", "presets/conv_bert_small_en")
"""

from convbert_tf.checkpoints.errors import CheckpointNotFoundError
from convbert_tf.checkpoints.hf_checkpoint import load_hf_checkpoint
from convbert_tf.checkpoints.preset_conversion import convert_checkpoint, load_checkpoint
from convbert_tf.checkpoints.tf1_checkpoint import infer_tf1_config, load_tf1_checkpoint

__all__ = [
    "CheckpointNotFoundError",
    "convert_checkpoint",
    "infer_tf1_config",
    "load_checkpoint",
    "load_hf_checkpoint",
    "load_tf1_checkpoint",
]
