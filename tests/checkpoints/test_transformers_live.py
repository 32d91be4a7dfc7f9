"""Extra check against a live `transformers` model (skipped where transformers/torch are absent).

The committed fixtures (test_hf_checkpoint.py and the others) always run, without torch; this
test rebuilds a reference on the fly, saves it the way task models are published
(`convbert.` prefix, classifier head weights) as both `pytorch_model.bin` and
`model.safetensors`, and compares again. Most of its time is importing torch/transformers.
"""

import numpy as np
import pytest

from convbert_tf.checkpoints import load_hf_checkpoint
from tests.checkpoints.make_parity_fixtures import SHAPES, make_inputs, reference_output
from tests.checkpoints.parity import ATOL

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def test_live_sequence_classification_checkpoint(tmp_path):
    shape = "medium_small_like"
    torch.manual_seed(1)
    config = transformers.ConvBertConfig(**SHAPES[shape], num_labels=3)
    model = transformers.ConvBertForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            scale = 0.3 if "depthwise" in name else 0.1
            param.add_(scale * torch.randn_like(param))
    model.save_pretrained(str(tmp_path / "safetensors"))
    # transformers 5 always writes safetensors; the released repos' pytorch_model.bin is a
    # plain `torch.save` of the state dict, which is what older versions wrote.
    model.config.save_pretrained(str(tmp_path / "bin"))
    torch.save(model.state_dict(), str(tmp_path / "bin" / "pytorch_model.bin"))

    inputs = make_inputs(config.vocab_size, seed=3)
    reference = reference_output(model.convbert, inputs)
    real = inputs["padding_mask"].astype(bool)
    for directory in ("bin", "safetensors"):
        backbone = load_hf_checkpoint(str(tmp_path / directory))
        output = np.asarray(backbone(inputs)["sequence_output"])
        assert np.abs(output - reference)[real].max() <= ATOL, directory
