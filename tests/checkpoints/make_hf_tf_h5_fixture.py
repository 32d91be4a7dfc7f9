"""Generates `data/medium_small_like/tf_model.h5` with transformers' own `TFConvBertModel`.

transformers 5 dropped its TensorFlow classes, so this needs transformers 4.x with tf-keras,
kept out of the project venv (they would downgrade its transformers), e.g.:

    pip install --target /tmp/hf4lib --no-deps transformers==4.57.6 tf-keras==2.21.0 \
        huggingface-hub==0.36.0 tokenizers==0.22.1
    PYTHONPATH=/tmp/hf4lib .venv/bin/python tests/checkpoints/make_hf_tf_h5_fixture.py

The PyTorch fixture weights go into a `TFConvBertModel` through transformers' own
PT->TF conversion (`load_pytorch_state_dict_in_tf2_model`: its names and transposes, not
ours), the TF model's output is checked against the PyTorch reference, and
`save_pretrained` writes the h5 exactly as the released `tf_model.h5` files were written.
The medium-small-like shape is the one with grouped FFN kernels, whose h5 layout
([out/G, in/G, G]) differs from every other format.
"""

import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # transformers 4.x TF classes need Keras 2

import numpy as np  # noqa: E402

SHAPE = "medium_small_like"
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    import tempfile

    from safetensors.torch import load_file
    from transformers import ConvBertConfig, TFConvBertModel
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    source = os.path.join(HERE, "data", SHAPE)
    model = TFConvBertModel(ConvBertConfig.from_pretrained(source))
    model(model.dummy_inputs)
    load_pytorch_state_dict_in_tf2_model(model, load_file(os.path.join(source, "model.safetensors")))
    data = np.load(os.path.join(source, "expected.npz"))
    output = model(input_ids=data["token_ids"], token_type_ids=data["segment_ids"],
                   attention_mask=data["padding_mask"]).last_hidden_state.numpy()
    diff = float(np.abs(output - data["last_hidden_state"]).max())
    print(f"TFConvBertModel vs PyTorch reference: max abs diff {diff:.3g}")
    if diff > 1e-4:
        sys.exit("transformers' TF model disagrees with its PyTorch model; not writing.")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        os.replace(os.path.join(tmp, "tf_model.h5"), os.path.join(source, "tf_model.h5"))
    print(f"wrote {os.path.join(source, 'tf_model.h5')}")


if __name__ == "__main__":
    main()
