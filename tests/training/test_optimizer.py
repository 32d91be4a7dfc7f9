"""The fine-tuning recipe: exact per-layer learning rates, weight decay, schedule, config."""

import keras
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone
from convbert_tf.training import (
    LayerwiseAdamW,
    WarmupLinearDecay,
    fine_tuning_optimizer,
    layerwise_lr_factor,
)

LR, DECAY, WD, EPS = 1e-2, 0.8, 0.01, 1e-6


def tiny_model(num_layers=3):
    backbone = ConvBertBackbone(vocabulary_size=20, num_layers=num_layers, num_heads=2,
                                hidden_dim=8, intermediate_dim=16, embedding_dim=4,
                                conv_kernel_size=3, max_sequence_length=8)
    logits = keras.layers.Dense(2, name="logits")(backbone.output["pooled_output"])
    return backbone, keras.Model(backbone.input, logits)


def expected_factor(path, num_layers):
    """Written out independently of the implementation: ELECTRA's depths."""
    if path.startswith("embeddings"):  # embeddings/* and embeddings_project/*
        return DECAY ** (num_layers + 2)
    if path.startswith("transformer_layer_"):
        i = int(path.split("/")[0].rsplit("_", 1)[1])
        return DECAY ** (num_layers + 1 - i)
    return 1.0


def test_one_step_moves_each_layer_by_its_own_learning_rate():
    num_layers = 3
    backbone, model = tiny_model(num_layers)
    optimizer = fine_tuning_optimizer(backbone, LR, num_train_steps=None, layerwise_decay=DECAY,
                                      weight_decay=WD)
    variables = model.trainable_variables
    before = [v.numpy().copy() for v in variables]
    rng = np.random.default_rng(0)
    gradients = [rng.uniform(0.5, 1.5, v.shape).astype("float32")
                 * rng.choice([-1.0, 1.0], v.shape).astype("float32") for v in variables]
    optimizer.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gradients],
                                  variables))

    seen = {"embeddings": 0, "layer": 0, "head": 0, "no_decay": 0}
    for variable, old, grad in zip(variables, before, gradients):
        factor = expected_factor(variable.path, num_layers)
        lr = LR * factor
        decayed = variable.name not in ("gamma", "beta", "bias")
        # Adam's first step (Keras form): alpha = lr*sqrt(1-b2)/(1-b1), m = (1-b1) g,
        # v = (1-b2) g^2; decoupled decay on the pre-update value with the same layer rate.
        adam = lr * np.sqrt(1 - 0.999) * grad / (np.sqrt(1 - 0.999) * np.abs(grad) + EPS)
        expected_move = -(old * WD * lr if decayed else 0.0) - adam
        # The movement agrees to float32 round-off (1e-4 of it); neighbouring layers' rates
        # differ by 20%, so this pins each variable's rate.
        np.testing.assert_allclose(variable.numpy() - old, expected_move, rtol=1e-4, atol=0,
                                   err_msg=variable.path)
        assert optimizer.lr_factor(variable) == pytest.approx(factor)
        seen["embeddings" if "embeddings" in variable.path else
             "layer" if "transformer_layer" in variable.path else "head"] += 1
        seen["no_decay"] += not decayed
    assert min(seen.values()) > 0

    # The numbers, spelled out for a 3-layer model.
    assert layerwise_lr_factor("logits/kernel", 3, DECAY) == 1.0
    assert layerwise_lr_factor("transformer_layer_2/attention/query/kernel", 3, DECAY) \
        == pytest.approx(0.64)
    assert layerwise_lr_factor("transformer_layer_0/intermediate/kernel", 3, DECAY) \
        == pytest.approx(0.8**4)
    assert layerwise_lr_factor("embeddings/word_embeddings/embeddings", 3, DECAY) \
        == pytest.approx(0.8**5)
    assert layerwise_lr_factor("embeddings_project/kernel", 3, DECAY) == pytest.approx(0.8**5)


def test_schedule_warmup_then_linear_decay_to_zero():
    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(schedule(step)) for step in (0, 5, 10, 50, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 4.75e-4, 9e-4, 5e-4, 0.0, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupLinearDecay(1e-3, total_steps=10, warmup_steps=11)


def test_recipe_config_round_trips():
    backbone, _ = tiny_model(2)
    optimizer = fine_tuning_optimizer(backbone, 3e-4, num_train_steps=1000)
    config = keras.optimizers.serialize(optimizer)
    restored = keras.optimizers.deserialize(config)
    assert isinstance(restored, LayerwiseAdamW)
    assert isinstance(restored._learning_rate, WarmupLinearDecay)
    assert restored.get_config() == optimizer.get_config()
    assert restored.num_layers == 2 and restored.epsilon == 1e-6
    assert restored.weight_decay == 0.01
    assert restored.exclude_from_weight_decay_names == ["gamma", "beta", "bias"]
    assert restored._learning_rate.warmup_steps == 100
    with pytest.raises(TypeError, match="num_layers"):
        fine_tuning_optimizer(keras.layers.Dense(2), 1e-3)
