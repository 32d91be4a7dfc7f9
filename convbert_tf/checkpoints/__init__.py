"""Loading the released ConvBERT and GroupBERT weights (Hugging Face hub by name or on disk,
official TF1) and writing presets. No PyTorch needed, and no code in a checkpoint ever runs.

Example:
>>> from convbert_tf.checkpoints import load_hf_checkpoint, convert_checkpoint, hf_preset
>>> backbone = load_hf_checkpoint("conv-bert-small/")   # config.json + model.safetensors
>>> convert_checkpoint("conv-bert-small/", "presets/conv_bert_small_en")
>>> preset = hf_preset("hf://Graphcore/groupbert-base-uncased")   # fetched, converted
"""

from convbert_tf.checkpoints.errors import (
    CheckpointFormatError,
    CheckpointNotFoundError,
    UnsafeCheckpointError,
)
from convbert_tf.checkpoints.hf_checkpoint import load_hf_checkpoint
from convbert_tf.checkpoints.hf_hub import HubCheckpointError, download_hf_checkpoint, hf_preset
from convbert_tf.checkpoints.preset_conversion import convert_checkpoint, load_checkpoint
from convbert_tf.checkpoints.tf1_checkpoint import infer_tf1_config, load_tf1_checkpoint
from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict

__all__ = [
    "CheckpointFormatError",
    "CheckpointNotFoundError",
    "HubCheckpointError",
    "UnsafeCheckpointError",
    "convert_checkpoint",
    "download_hf_checkpoint",
    "hf_preset",
    "infer_tf1_config",
    "load_checkpoint",
    "load_hf_checkpoint",
    "load_tf1_checkpoint",
    "load_torch_state_dict",
]
